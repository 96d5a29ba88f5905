/** The memory this process may still take, for memory admission (memory.ts). */
import { freemem } from 'node:os';

/**
 * Bytes this process can still allocate: process.availableMemory() where Node has it (the
 * machine's available memory, lowered by a cgroup's limit), else os.freemem().
 */
export function availableMemory(): number {
  const p = process as { availableMemory?: () => number };
  return typeof p.availableMemory === 'function' ? p.availableMemory() : freemem();
}
