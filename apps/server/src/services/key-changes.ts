import type { KeysChangedFrame } from "@warren/protocol";
import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import type { KeyRow } from "../storage/repositories/keys.js";
import type { Scopes } from "./scopes.js";

export type KeyChangeNotifier = (key: KeyRow, change: "added" | "removed") => Promise<void>;

/**
 * Tells everyone who may message a user that one of the user's device keys came or went:
 * the user's own sockets, and every room and community they share with the user.
 * Clients fetch the user's keys again and, when a key is new, ask their person to accept
 * it before sealing to it (the SDK refuses until then). A socket in several such scopes
 * gets the frame once per scope; it is a hint to refetch, so that is harmless.
 * Keys of no device sign in only: nobody seals to them, nobody is told.
 */
export function createKeyChangeNotifier(scopes: Scopes, bus: Bus): KeyChangeNotifier {
  return async (key, change) => {
    if (key.device === null) return;
    const frame: KeysChangedFrame = {
      type: "keys.changed",
      user: key.user_id,
      change,
      key: { id: key.id, kind: key.kind, device: key.device },
    };
    const text = JSON.stringify(frame);
    const shared = (await scopes.topicsOf(key.user_id)).filter((t) => !t.startsWith("network:"));
    for (const topic of [topics.user(key.user_id), ...shared]) {
      await bus.publish(topic, { kind: "frame", frame: text, type: frame.type });
    }
  };
}
