/**
 * Which dropped or picked files make a checkpoint: model.safetensors and the config.json in the
 * same folder. A run folder holds its model in checkpoint/, which is preferred, as the CLI's
 * --model does for a run folder.
 */
export interface PickedFile {
  file: File;
  /** The path inside the dropped folder ("run/checkpoint/model.safetensors"), or the name. */
  path: string;
}

const folderOf = (path: string) => path.slice(0, path.lastIndexOf('/') + 1);
const depth = (path: string) => path.split('/').length;

/** The model and config files among `files`; throws a sentence saying what is missing. */
export function pickCheckpoint(files: readonly PickedFile[]): { model: PickedFile; config: PickedFile } {
  const weights = files.filter((f) => f.path.endsWith('.safetensors') && !/(^|\/)optimizer\.safetensors$/.test(f.path));
  if (weights.length === 0)
    throw new Error(
      `no model.safetensors among the ${files.length} file${files.length === 1 ? '' : 's'} given: open model.safetensors with its config.json, or a run's checkpoint/ folder`,
    );
  const rank = (f: PickedFile) =>
    (/(^|\/)checkpoint\/model\.safetensors$/.test(f.path) ? 0 : /(^|\/)model\.safetensors$/.test(f.path) ? 1 : 2) *
      100 +
    depth(f.path);
  const model = [...weights].sort((a, b) => rank(a) - rank(b))[0]!;
  const config =
    files.find((f) => f.path === `${folderOf(model.path)}config.json`) ??
    (files.filter((f) => f.path.endsWith('config.json')).length === 1 && weights.length === 1
      ? files.find((f) => f.path.endsWith('config.json'))
      : undefined);
  if (!config)
    throw new Error(
      `config.json is missing beside ${model.path}: open both files together (or the folder that holds them)`,
    );
  return { model, config };
}

/** Files of a drop, folders walked (DataTransferItem.webkitGetAsEntry). */
export async function filesFromDrop(transfer: DataTransfer): Promise<PickedFile[]> {
  const entries = [...transfer.items]
    .map((item) => item.webkitGetAsEntry())
    .filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 0) return [...transfer.files].map((file) => ({ file, path: file.name }));
  const out: PickedFile[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ file, path: prefix + entry.name });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries gives a batch at a time, and an empty batch at the end.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const entry of entries) await walk(entry, '');
  return out;
}
