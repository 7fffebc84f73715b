import { DM_FLUSH_PAGE } from "@warren/protocol";
import type { DirectMessages } from "../services/direct-messages.js";
import type { Connection } from "./connection.js";
import type { Outbox } from "./outbox.js";

/**
 * Store-and-forward of direct messages: a socket whose device has pending
 * copies gets them oldest first, DM_FLUSH_PAGE at a time; the next page follows once
 * the client acknowledged the whole page (dm.ack or dm.read), or when it asks (dm.fetch).
 * Copies that arrive live meanwhile may come twice; clients keep them by message id.
 */
export function createDmDelivery(dms: DirectMessages, outbox: Outbox) {
  /** Sends the next page after this socket's cursor; says how many went and whether more wait. */
  const page = async (conn: Connection): Promise<{ count: number; more: boolean }> => {
    const key = await dms.keyOf(conn.identity.userId, conn.identity.device);
    if (!key) return { count: 0, more: false };
    // A device that replaced its key starts again from the oldest copy for the new one.
    const cursor = conn.dm?.key === key.id ? conn.dm.cursor : undefined;
    const { frames, more } = await dms.pending(key.id, cursor, DM_FLUSH_PAGE);
    for (const frame of frames) outbox.frame(conn, frame as unknown as { type: string });
    conn.dm = {
      key: key.id,
      cursor: frames[frames.length - 1]?.id ?? cursor,
      outstanding: new Set(frames.map((f) => f.id)),
      more,
    };
    return { count: frames.length, more };
  };

  return {
    /** Right after the welcome: the first page. */
    start: (conn: Connection) => page(conn),
    /** dm.fetch: the next page now, acknowledged or not. */
    fetch: (conn: Connection) => page(conn),
    /** After dm.ack or dm.read: once the last page is all acknowledged, the next one follows. */
    async acknowledged(conn: Connection, ids: string[]): Promise<void> {
      const paging = conn.dm;
      if (!paging?.more) return;
      for (const id of ids) paging.outstanding.delete(id);
      if (paging.outstanding.size === 0) await page(conn);
    },
  };
}

export type DmDelivery = ReturnType<typeof createDmDelivery>;
