/**
 * @module One request in flight per RouterOS device, ever (docs/adr/0194-routeros-one-request-in-flight.md): the
 * REST server of the `www-ssl` service handles requests one at a time (docs/reference/routeros-api.md §7), so
 * parallel callers only queue up inside the router and run into its 60 s deadline. Every request of every adapter
 * built for one gateway key passes through one FIFO queue here, so the device never sees two at once.
 */

interface DeviceQueue {
  tail: Promise<void>;
  /** Requests waiting or running. */
  depth: number;
}

const queues = new Map<string, DeviceQueue>();

/** Runs `task` after every task queued before it for `key`; the queue moves on whether it fails or not. */
export function runSerially<T>(key: string, task: () => Promise<T>): Promise<T> {
  let queue = queues.get(key);
  if (queue === undefined) {
    queue = { tail: Promise.resolve(), depth: 0 };
    queues.set(key, queue);
  }
  const q = queue;
  q.depth++;
  const run = q.tail.then(task);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  q.tail = settled;
  void settled.then(() => {
    q.depth--;
    if (q.depth === 0 && queues.get(key) === q) queues.delete(key);
  });
  return run;
}

/** Requests queued or running for `key` (0 when idle). */
export function queueDepth(key: string): number {
  return queues.get(key)?.depth ?? 0;
}
