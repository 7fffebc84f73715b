import type { BusEvent } from "../bus/bus.js";
import { BusUnavailableError } from "../bus/bus.js";
import { AppError } from "../errors.js";
import { isPromise } from "../maybe.js";
import { mayContact } from "../policy/policy.js";
import type { RoomMembers } from "../state/room-members.js";
import { createContactCache } from "./contact-cache.js";
import type { Scopes } from "./scopes.js";

/** The rooms this instance's own sockets are in: what it knows while Redis is away. */
export interface LocalRooms {
  shareRoom(a: string, b: string): boolean;
}

/**
 * Who may signal whom (offer, answer, candidate, signal): oneself, someone sharing a
 * room, or (failing that) a community or network (policy.ts mayContact). A stranger, an
 * unknown user and an offline one are all peer_unavailable; when the room fact could not
 * be had (Redis away) and nothing else allows it, "no" is not known, so the answer is
 * BusUnavailableError instead.
 *
 * This is the hub's hot path: `mayRelay` answers `true` synchronously whenever the
 * stores answer at once (one instance, or a cached "yes"), and a promise only when it
 * must wait.
 */
export function createSignaling({
  rooms,
  scopes,
}: {
  rooms: Pick<RoomMembers, "shareRoom">;
  scopes: Pick<Scopes, "shared">;
}) {
  const contacts = createContactCache();

  /** Without a shared room, a shared community or network allows it too. */
  const byScopes = (from: string, to: string, shareRoom: boolean, unsure = false): true | Promise<true> => {
    if (mayContact({ sameUser: false, shareRoom })) return true;
    return scopes.shared(from, to).then((facts) => {
      if (mayContact({ sameUser: false, shareRoom, ...facts })) {
        contacts.remember(from, to);
        return true as const;
      }
      throw unsure ? new BusUnavailableError() : new AppError("peer_unavailable");
    });
  };

  return {
    /** true when `from` may signal `to`, now or once the promise resolves; a refusal throws or rejects. */
    mayRelay(from: string, to: string, local: LocalRooms): true | Promise<true> {
      if (to === from && mayContact({ sameUser: true, shareRoom: false })) return true;
      if (contacts.allowed(from, to)) return true;
      const shared = rooms.shareRoom(from, to);
      if (!isPromise(shared)) return byScopes(from, to, shared);
      // Redis away: rooms this instance's own sockets are in still count (it knows them
      // without Redis).
      return shared.then(
        (ok) => {
          if (ok) contacts.remember(from, to);
          return byScopes(from, to, ok);
        },
        () => byScopes(from, to, local.shareRoom(from, to), true),
      );
    },
    /** Every event this instance delivers passes here: a departure forgets cached answers. */
    observe(event: BusEvent): void {
      contacts.observe(event);
    },
  };
}

export type Signaling = ReturnType<typeof createSignaling>;
