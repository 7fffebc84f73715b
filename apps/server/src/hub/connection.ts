import type { WebSocket } from "ws";

/** What the upgrade established about a socket before it opened. */
export interface Identity {
  userId: string;
  username: string;
  device: string;
  /** the sign-in session (sid) behind the access token */
  session: string;
  signinKey: string | null;
  isAdmin: boolean;
}

/**
 * One socket on this instance. Kept small and flat: the hub holds tens of thousands of
 * these, and memory per idle connection is a target (issue 3).
 */
export class Connection {
  /** heartbeats missed in a row */
  missed = 0;
  /** set once the client sent one valid frame */
  valid = false;
  /** local topics this socket is on (user, device, rooms) */
  readonly topics: string[] = [];
  /** frames received in each of the last ten seconds, made on first rate-limit refusal */
  abuse: Uint32Array | undefined;
  abuseSecond = 0;
  /** a frame of this socket is being handled; later ones wait in `backlog`, in order */
  busy = false;
  backlog: [data: unknown, isBinary: boolean][] | undefined;

  constructor(
    readonly id: string,
    readonly identity: Identity,
    readonly ws: WebSocket,
    readonly openedAt: number,
  ) {}
}
