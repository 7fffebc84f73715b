import { Command, type Redis } from "ioredis";
import { type Bus, type BusEvent, type BusHandler, BusUnavailableError, type PublishOptions } from "./bus.js";
import { createHandlerTable } from "./handler-table.js";
import { decodeEvent, encodeEvent } from "./redis-codec.js";

export interface RedisBusOptions {
  /** the command connection (shared with the state stores); PUBLISH goes through it */
  redis: Redis;
  /** prefix of every channel (REDIS_KEY_PREFIX) */
  prefix: string;
  /** this instance's id: its own events coming back from Redis are skipped */
  instanceId: string;
  /** events kept while Redis is down, published when it is back; the oldest go first */
  maxKept?: number;
  /**
   * How long after Redis is back kept events wait, so the other instances have
   * resubscribed first (they retry every second at most). Default 2 s.
   */
  resendAfterMs?: number;
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/**
 * Between the events of one Redis message: JSON escapes every control character, and no
 * header field holds one, so the separator appears nowhere else.
 */
const SEPARATOR = "\x1e";

/** Consecutive events of one tick for one channel, published as one Redis message. */
interface Batch {
  channel: string;
  messages: string[];
  /** characters in messages */
  size: number;
  /** 1 when a local handler got the events: the count's floor */
  local: number;
  /** events worth nothing later (PublishOptions.ephemeral) */
  ephemeral: boolean;
  /** what every publish of the batch answers: one promise for them all */
  done: Promise<number>;
  resolve(n: number): void;
  reject(err: unknown): void;
}

function newBatch(channel: string, message: string, local: number, ephemeral: boolean): Batch {
  const batch = { channel, messages: [message], size: message.length, local, ephemeral } as unknown as Batch;
  batch.done = new Promise<number>((resolve, reject) => {
    batch.resolve = resolve;
    batch.reject = reject;
  });
  return batch;
}

/**
 * Characters of messages per Redis command (one socket write each) and per batch: below
 * V8's large-object size (128 KiB), so the command text is made in the young generation
 * instead of freshly mapped pages.
 */
const COMMAND_CHARS = 60 * 1024;

/**
 * ARGV: channel, message, channel, message, … Publishes each in order and answers the
 * receiver counts. A turn's batches for several channels travel as this one command
 * instead of a pipeline of PUBLISHes: the sending instance then makes one command, one
 * promise and one reply per turn instead of one per channel, and those live until Redis
 * answers, so at a moderate rate (every frame its own channel) they were most of what
 * survived young-generation collections on the sending instance.
 */
const PUBLISH_ALL = `
local counts = {}
for i = 1, #ARGV, 2 do
  counts[#counts + 1] = redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
end
return counts
`;

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Channels per SUBSCRIBE when resubscribing after a reconnect. */
const CHUNK = 1000;

/**
 * Redis pub/sub between instances. One channel per topic; an instance
 * subscribes to a channel while one of its sockets needs the topic. Local handlers get
 * an event at once, in process, whether Redis is up or not, so an instance keeps
 * serving its own clients through an outage; Redis carries it to the others.
 */
export function createRedisBus(options: RedisBusOptions): Bus {
  const { redis, prefix, instanceId } = options;
  const maxKept = options.maxKept ?? 10_000;
  const sub = redis.duplicate({ enableOfflineQueue: false, autoResubscribe: false, lazyConnect: false });
  sub.on("error", () => {});
  const handlers = createHandlerTable();
  /** subscriptions sent and not yet confirmed */
  const inFlight = new Set<Promise<unknown>>();
  const restored: ((downSinceMs: number) => void)[] = [];
  /** events that could not be published while Redis was down */
  const kept: [channel: string, message: string][] = [];
  let dropped = 0;
  let down = false;
  let downSince = 0;
  let closing = false;
  let lastTopic = "";
  let lastChannel = prefix;
  /** Consecutive events mostly share a topic: its channel string is made once. */
  const channelOf = (topic: string) => {
    if (topic !== lastTopic) {
      lastTopic = topic;
      lastChannel = prefix + topic;
    }
    return lastChannel;
  };

  sub.on("messageBuffer", (channel: Buffer, message: Buffer) => {
    const topic = channel.toString().slice(prefix.length);
    for (const part of message.toString().split(SEPARATOR)) {
      const decoded = decodeEvent(part);
      if (!decoded || decoded.origin === instanceId) continue;
      handlers.deliver(topic, decoded.event);
    }
  });

  const track = (p: Promise<unknown>) => {
    const settled = p.catch(() => {}).finally(() => inFlight.delete(settled));
    inFlight.add(settled);
  };
  const send = (command: "subscribe" | "unsubscribe", channels: string[]) => {
    if (sub.status !== "ready" || channels.length === 0) return;
    track(sub[command](...channels));
  };

  let flushing = false;
  /** Redis is back and kept events wait for the other instances to resubscribe */
  let resending = false;
  const flushKept = async () => {
    if (flushing) return;
    flushing = true;
    try {
      while (kept.length > 0 && redis.status === "ready") {
        const [channel, message] = kept[0] as [string, string];
        await redis.publish(channel, message);
        kept.shift();
      }
    } catch {
      // Still down: the next restore tries again.
    } finally {
      flushing = false;
    }
  };
  const maybeRestored = () => {
    if (!down || closing || sub.status !== "ready" || redis.status !== "ready") return;
    down = false;
    options.log?.info({ kept: kept.length, dropped }, "redis bus restored");
    dropped = 0;
    resending = true;
    setTimeout(() => {
      resending = false;
      void flushKept();
    }, options.resendAfterMs ?? 2000).unref();
    for (const listener of restored) listener(downSince);
  };
  let everReady = false;
  const firstReady = new Promise<void>((resolve) => sub.once("ready", () => resolve()));
  sub.on("ready", () => {
    everReady = true;
    // A reconnect starts with no subscriptions: ask for every channel still wanted.
    const channels = [...handlers.topics()].map(channelOf);
    for (let i = 0; i < channels.length; i += CHUNK) send("subscribe", channels.slice(i, i + CHUNK));
    maybeRestored();
  });
  redis.on("ready", maybeRestored);
  const lost = () => {
    if (closing || down) return;
    down = true;
    downSince = Date.now();
    options.log?.warn({}, "redis bus unavailable: cross-instance delivery stops until it is back");
  };
  sub.on("close", lost);
  redis.on("close", lost);

  const keep = (channel: string, message: string) => {
    if (kept.length >= maxKept) {
      kept.shift();
      dropped += 1;
    }
    kept.push([channel, message]);
  };

  /**
   * Events published in one turn of the event loop, in order; consecutive ones for one
   * channel travel as one Redis message (a sender's burst to one peer: one PUBLISH, and
   * one write on the receiving instance). Order holds: a new channel starts a new batch.
   * The turn's batches go out as one PUBLISH_ALL per COMMAND_CHARS, written at once.
   */
  let batches: Batch[] = [];
  const settle = (b: Batch, n: number, err: unknown) => {
    if (err === null || err === undefined) {
      // Our own subscription counts once Redis confirmed it; until then, count it here.
      b.resolve(Math.max(n, b.local));
      return;
    }
    lost();
    if (!b.ephemeral) {
      for (const m of b.messages) keep(b.channel, m);
      if (!down && !resending) void flushKept();
      b.resolve(b.local);
    } else if (b.local > 0) b.resolve(b.local);
    else b.reject(new BusUnavailableError(err));
  };
  /**
   * Sent with sendCommand: with auto-pipelining on (start.ts), ioredis would hold a
   * command until its previous pipeline is answered. One batch goes as a plain PUBLISH:
   * a script call costs Redis some 10 µs more than the PUBLISHes in it, worth paying
   * only when it carries several. EVAL rather than EVALSHA: a script Redis has forgotten
   * (restart, SCRIPT FLUSH) would fail with NOSCRIPT and have to be sent again, after
   * later turns' commands, whose events would then overtake it.
   */
  const publishAll = (args: string[]): Promise<unknown> => {
    const command =
      args.length === 2
        ? new Command("publish", args, { replyEncoding: "utf8" })
        : new Command("eval", [PUBLISH_ALL, "0", ...args], { replyEncoding: "utf8" });
    redis.sendCommand(command);
    return command.promise;
  };
  const sendBatches = (ready: Batch[], from: number, to: number) => {
    const args = new Array<string>(2 * (to - from));
    for (let i = from; i < to; i++) {
      const b = ready[i] as Batch;
      args[2 * (i - from)] = b.channel;
      args[2 * (i - from) + 1] =
        b.messages.length === 1 ? (b.messages[0] as string) : b.messages.join(SEPARATOR);
    }
    publishAll(args).then(
      (counts) => {
        for (let i = from; i < to; i++) {
          const n = Array.isArray(counts) ? counts[i - from] : counts;
          if (typeof n === "number") settle(ready[i] as Batch, n, null);
          else settle(ready[i] as Batch, 0, new Error("no reply"));
        }
      },
      (err) => {
        for (let i = from; i < to; i++) settle(ready[i] as Batch, 0, err ?? new Error("publish failed"));
      },
    );
  };
  const flushBatches = () => {
    const ready = batches;
    batches = [];
    let from = 0;
    let size = 0;
    for (let i = 0; i < ready.length; i++) {
      size += (ready[i] as Batch).size;
      if (size >= COMMAND_CHARS || i === ready.length - 1) {
        sendBatches(ready, from, i + 1);
        from = i + 1;
        size = 0;
      }
    }
  };
  const batchFor = (channel: string, message: string, local: number, ephemeral: boolean): Promise<number> => {
    const last = batches[batches.length - 1];
    if (
      last?.channel === channel &&
      last.local === local &&
      last.ephemeral === ephemeral &&
      last.size < COMMAND_CHARS
    ) {
      last.messages.push(message);
      last.size += message.length + 1;
      return last.done;
    }
    if (batches.length === 0) setImmediate(flushBatches);
    const batch = newBatch(channel, message, local, ephemeral);
    batches.push(batch);
    return batch.done;
  };

  return {
    publish(topic: string, event: BusEvent, opts?: PublishOptions): Promise<number> {
      const local = handlers.deliver(topic, event) > 0 ? 1 : 0;
      const channel = channelOf(topic);
      const message = encodeEvent(instanceId, event);
      // While kept events wait, later ones queue behind them: one topic stays in order.
      if (redis.status !== "ready" || (kept.length > 0 && !opts?.ephemeral)) {
        return failed(channel, message, local, opts);
      }
      return batchFor(channel, message, local, opts?.ephemeral === true);
    },
    subscribe(topic: string, handler: BusHandler) {
      if (handlers.add(topic, handler)) send("subscribe", [channelOf(topic)]);
    },
    unsubscribe(topic: string, handler: BusHandler) {
      if (handlers.remove(topic, handler)) send("unsubscribe", [channelOf(topic)]);
    },
    async settled() {
      // Before the first connection, subscriptions wait for it (bounded).
      if (!everReady && !closing) await Promise.race([firstReady, delay(5000)]);
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    onRestored(listener) {
      restored.push(listener);
    },
    healthy: () => !closing && sub.status === "ready" && redis.status === "ready",
    async close() {
      closing = true;
      handlers.clear();
      await sub.quit().catch(() => sub.disconnect());
    },
  };

  /** Redis is away, or kept events are still waiting: keep this one or refuse it. */
  function failed(channel: string, message: string, local: number, opts: PublishOptions | undefined) {
    if (redis.status !== "ready") lost();
    if (!opts?.ephemeral) {
      keep(channel, message);
      if (!down && !resending) void flushKept();
      return Promise.resolve(local);
    }
    return local > 0 ? Promise.resolve(local) : Promise.reject(new BusUnavailableError());
  }
}
