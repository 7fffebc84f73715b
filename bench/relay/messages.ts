/** What the relay benchmark's orchestrator and its load processes say to each other over IPC. */

/** bare: ws, one write per frame; corked: ws, writes corked per tick (the fair floor); warren */
export type Mode = "bare" | "corked" | "warren";

/** One client socket to open. */
export interface SocketSpec {
  url: string;
  /** e.g. Authorization: Bearer <token> for warren */
  headers?: Record<string, string>;
  /** 127.0.0.x source address */
  localAddress: string;
}

/** A sender and a receiver; the sender relays to `to` (the receiver's id). */
export interface PairSpec {
  sender: SocketSpec;
  receiver: SocketSpec;
  to: string;
}

export type Command =
  | { cmd: "pairs"; rid: number; mode: Mode; pairs: PairSpec[]; timeoutMs: number }
  | { cmd: "throughput.start"; rid: number; mode: Mode; window: number; maxBufferedBytes: number }
  | { cmd: "snapshot"; rid: number }
  | { cmd: "throughput.stop"; rid: number; drainMs: number }
  | {
      cmd: "latency";
      rid: number;
      mode: Mode;
      /** messages per second this process offers */
      rate: number;
      warmupMs: number;
      durationMs: number;
      drainMs: number;
    }
  | {
      cmd: "idle";
      rid: number;
      mode: Mode;
      sockets: SocketSpec[];
      concurrency: number;
      timeoutMs: number;
      /**
       * each socket sends its first frame and waits for the answer once open (default);
       * false: open only (upgrade to welcome), and `first-frame` sends them later
       */
      firstFrame?: boolean;
    }
  /** every idle socket not yet past its first frame sends it and waits for the answer */
  | { cmd: "first-frame"; rid: number; mode: Mode; concurrency: number; timeoutMs: number }
  | { cmd: "count"; rid: number }
  /** closes every idle socket of this process at once (a reconnect storm follows) */
  | { cmd: "drop"; rid: number }
  | { cmd: "close"; rid: number };

export interface Snapshot {
  /** relayed frames received by receivers */
  received: number;
  sent: number;
  /** frames that came back to senders (errors) */
  errors: number;
  firstError?: string;
  /** this load process's own CPU time, µs */
  cpuUs: number;
  at: number;
}

export interface LatencyReport {
  /** one-way latency of each message sent inside the window, ms */
  samples: number[];
  sentInWindow: number;
  receivedInWindow: number;
  errors: number;
  firstError?: string;
  /** actual offered rate inside the window, messages/s */
  offeredRate: number;
  cpuUs: number;
}

export interface OpenReport {
  opened: number;
  failed: number;
  firstFailure?: string;
  /** failures by reason (an HTTP status, a close code, a timeout) */
  failures: Record<string, number>;
  /** ms from the start until the last socket opened */
  lastOpenMs: number;
  elapsedMs: number;
  cpuUs: number;
}

export interface CountReport {
  open: number;
  /** server pings seen since the sockets opened */
  pings: number;
  closed: number;
  cpuUs: number;
}

export type Reply = { re: number; error?: string } & (
  | { kind: "ok" }
  | { kind: "snapshot"; snapshot: Snapshot }
  | { kind: "latency"; report: LatencyReport }
  | { kind: "open"; report: OpenReport }
  | { kind: "count"; report: CountReport }
);
