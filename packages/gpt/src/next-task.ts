/**
 * Waits for a later turn of the event loop (a macrotask). Long loops await it between steps so
 * that what waits behind them gets to run: a Ctrl-C handler, a timer, a progress bar's redraw.
 * NOTE: awaiting a resolved promise is not enough: it runs as a microtask, before any of those,
 * and on the CPU device every read resolves at once, so a loop of such awaits never lets the
 * event loop turn (Ctrl-C went unanswered for a whole epoch that way).
 * Not setTimeout(0): Node waits at least 1 ms for it (browsers 4 ms once nested), a cost on
 * every decoded token. setImmediate (Node) runs right after the loop's poll for I/O, where a
 * signal is delivered; elsewhere a MessageChannel message is an unclamped macrotask.
 */
interface Port {
  onmessage: (() => void) | null;
  postMessage(message: null): void;
  close(): void;
}
interface Scheduling {
  setImmediate?: (f: () => void) => unknown;
  MessageChannel: new () => { port1: Port; port2: Port };
}

export function nextTask(): Promise<void> {
  const scheduling = globalThis as unknown as Scheduling;
  if (scheduling.setImmediate)
    return new Promise((resolve) => {
      scheduling.setImmediate!(resolve);
    });
  return new Promise((resolve) => {
    const channel = new scheduling.MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
