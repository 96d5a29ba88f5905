/**
 * Waits for a later turn of the event loop (a macrotask). Long loops await it between steps so
 * that what waits behind them gets to run: a Ctrl-C handler, a timer, a progress bar's redraw.
 * NOTE: awaiting a resolved promise is not enough: it runs as a microtask, before any of those,
 * and on the CPU device every read resolves at once, so a loop of such awaits never lets the
 * event loop turn (Ctrl-C went unanswered for a whole epoch that way).
 */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
