import type { DirectMessageFrame } from "@warren/protocol";
import type { WarrenSocket } from "../transport/socket-types.js";
import { openDirectMessage, type ReceiverContext, UnreadableMessageError } from "./receive.js";
import type { DirectErrorEvent, DirectMessage } from "./types.js";

/** dm.ack takes at most this many ids (the protocol's MessageIds). */
const ACK_BATCH = 256;
/** Message ids remembered to drop copies that come twice (live and from the store). */
const SEEN_LIMIT = 10_000;

export interface InboxDeps {
  socket: WarrenSocket;
  context: ReceiverContext;
  onError: (event: DirectErrorEvent) => void;
}

/**
 * Incoming direct messages of one device: dm frames are checked and opened in the
 * order they arrive, queued, and handed to the consumer of messages(); a message is
 * acknowledged (dm.ack) once it has been handed over, so one the app never took is
 * delivered again when the device next connects. A message that can never be read
 * (bad signature, a copy that does not open) is reported, acknowledged so it is not
 * redelivered forever (the server pages pending copies on acks), and dropped.
 */
export function createInbox(deps: InboxDeps) {
  const { socket, context } = deps;
  const ready: DirectMessage[] = [];
  const waiters: ((result: IteratorResult<DirectMessage>) => void)[] = [];
  /** ids queued or handed over: a copy that comes again is only acknowledged again */
  const seen = new Set<string>();
  const toAck = new Set<string>();
  let ackTimer: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<void> = Promise.resolve();
  let closed = false;

  const remember = (id: string) => {
    seen.add(id);
    if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value as string);
  };

  function flushAcks() {
    ackTimer = undefined;
    const ids = [...toAck];
    toAck.clear();
    if (!socket.connected) return; // the server delivers them again on the next connect
    for (let i = 0; i < ids.length; i += ACK_BATCH) {
      socket.request({ type: "dm.ack", ids: ids.slice(i, i + ACK_BATCH) }).catch(() => {
        // a drop: the copies stay pending and come again; they are acknowledged then
      });
    }
  }

  function ack(id: string) {
    toAck.add(id);
    // One dm.ack for everything handed over in this turn of the event loop.
    ackTimer ??= setTimeout(flushAcks, 0);
  }

  function hand(message: DirectMessage) {
    const waiter = waiters.shift();
    if (waiter) {
      ack(message.id);
      waiter({ value: message, done: false });
    } else {
      ready.push(message);
    }
  }

  async function receive(frame: DirectMessageFrame) {
    if (seen.has(frame.id)) {
      // Already taken (acknowledged again) or still queued (acknowledged when taken).
      if (!ready.some((m) => m.id === frame.id)) ack(frame.id);
      return;
    }
    try {
      const message = await openDirectMessage(frame, context);
      remember(frame.id);
      hand(message);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (err instanceof UnreadableMessageError) {
        remember(frame.id);
        ack(frame.id);
      }
      // Otherwise (keys could not be fetched) it stays pending and comes again.
      deps.onError({ error, message: { id: frame.id, from: frame.from } });
    }
  }

  const offFrame = socket.on("dm", (frame) => {
    if (closed) return;
    // One at a time, so messages come out in the order the server sent them.
    chain = chain.then(() => receive(frame));
  });

  const iterator: AsyncIterableIterator<DirectMessage> = {
    next(): Promise<IteratorResult<DirectMessage>> {
      const message = ready.shift();
      if (message) {
        ack(message.id);
        return Promise.resolve({ value: message, done: false });
      }
      if (closed) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiters.push(resolve));
    },
    // Ending one loop leaves the queue for the next call of messages().
    return(): Promise<IteratorResult<DirectMessage>> {
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };

  return {
    /** The decrypted messages, oldest first; one consumer at a time. */
    messages: (): AsyncIterableIterator<DirectMessage> => iterator,
    /** Messages received but not taken yet. */
    get pending(): number {
      return ready.length;
    },
    /** Waits until every frame received so far has been processed (for tests). */
    settled: (): Promise<void> => chain,
    close() {
      if (closed) return;
      closed = true;
      offFrame();
      if (ackTimer !== undefined) clearTimeout(ackTimer);
      flushAcks();
      for (const waiter of waiters.splice(0)) waiter({ value: undefined, done: true });
    },
  };
}

export type Inbox = ReturnType<typeof createInbox>;
