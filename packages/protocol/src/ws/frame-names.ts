/**
 * Frame type names (docs/protocol.md "Frame names"). Since protocol version 2 every
 * type of more than one word is `subject.event`:
 *
 * - one `.` between two parts; words inside a part are joined with `_`;
 * - the subject is the kind of thing the frame is about, one word: peer (a device in a
 *   network), member (a user in a community or network), network, tenant, room, chat,
 *   keys, join, server, dm, presence, command;
 * - the event says what happened: a past participle for a change (added, joined,
 *   deleted), a noun for a report or a request (status, path, message, request, result);
 * - who comes and goes in a room is a room event (`room.peer_joined`): "peer" as a
 *   subject means a device in a network only, and the room's own frames are `room.*`.
 *
 * One-word types (welcome, error, pong, result, presence, dm, kicked, broadcast, offer,
 * answer, candidate, signal) stay as they are.
 *
 * Every client frame already followed this in version 1; only server frames were renamed.
 */

/** The version-2 name of each server frame renamed in version 2, to its version-1 name. */
export const VERSION_1_NAMES = {
  "peer.added": "peer_added",
  "peer.updated": "peer_updated",
  "peer.removed": "peer_removed",
  "peer.status": "peer_status",
  "peer.path": "peer_path",
  "room.peer_joined": "peer_joined",
  "room.peer_left": "peer_left",
  "member.joined": "member_joined",
  "member.removed": "member_removed",
  "member.updated": "member_updated",
  "network.updated": "network_updated",
  "network.deleted": "network_deleted",
  "join.request": "join_request",
  "join.denied": "join_denied",
  "tenant.deleted": "tenant_deleted",
  "chat.message": "chat_message",
  "chat.message_updated": "chat_message_updated",
  "chat.message_deleted": "chat_message_deleted",
  "keys.changed": "keys_changed",
  "server.shutdown": "server_shutdown",
} as const;

export type RenamedFrameType = keyof typeof VERSION_1_NAMES;
export type Version1FrameType = (typeof VERSION_1_NAMES)[RenamedFrameType];

/** A version-1 name to its version-2 name. */
export const VERSION_2_NAMES = Object.fromEntries(
  Object.entries(VERSION_1_NAMES).map(([current, old]) => [old, current]),
) as { readonly [K in RenamedFrameType as (typeof VERSION_1_NAMES)[K]]: K };

const toVersion1 = new Map<string, string>(Object.entries(VERSION_1_NAMES));
const toVersion2 = new Map<string, string>(Object.entries(VERSION_2_NAMES));

/** The name a version-1 socket knows `type` by (the same name when it was not renamed). */
export function version1Type(type: string): string {
  return toVersion1.get(type) ?? type;
}

/** The version-2 name of `type`, which may be a version-1 name (the same name otherwise). */
export function currentType(type: string): string {
  return toVersion2.get(type) ?? type;
}

const PREFIX = '{"type":"';

/**
 * A serialised server frame as a version-1 socket must get it: the same text with its
 * version-1 type. Frames are serialised with "type" first, so this is a look at the
 * prefix and, for a renamed type, one concatenation; anything else is parsed once.
 */
export function version1Text(text: string): string {
  if (text.startsWith(PREFIX)) {
    const end = text.indexOf('"', PREFIX.length);
    const old = toVersion1.get(text.slice(PREFIX.length, end));
    return old === undefined ? text : PREFIX + old + text.slice(end);
  }
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return text;
  }
  const type = (frame as { type?: unknown } | null)?.type;
  if (typeof type !== "string" || !toVersion1.has(type)) return text;
  return JSON.stringify({ ...(frame as object), type: version1Type(type) });
}
