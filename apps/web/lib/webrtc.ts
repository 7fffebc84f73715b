import type { WarrenSocket } from "@warren/sdk";

/**
 * WebRTC between the members of a room, signalled through warren's relay (offer,
 * answer, candidate frames over the hub socket). For each pair exactly one side offers
 * (the smaller user id), so two people who join at once never both offer. Every
 * connection carries one reliable data channel: text lines and files.
 */
export interface RoomPeerEvents {
  onState(user: string, state: string): void;
  onText(user: string, text: string): void;
  onFile(user: string, file: { name: string; size: number; sha256: string; url: string }): void;
}

interface Link {
  pc: RTCPeerConnection;
  channel?: RTCDataChannel;
  device?: string;
  incoming?: { name: string; size: number; chunks: ArrayBuffer[]; received: number };
  /** candidates that came before the remote description, added right after it */
  early: RTCIceCandidateInit[];
}

const CHUNK = 16 * 1024;

async function sha256(data: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function createRoomMesh(options: {
  hub: WarrenSocket;
  room: string;
  me: string;
  events: RoomPeerEvents;
}) {
  const { hub, room, me, events } = options;
  const links = new Map<string, Link>();

  const relay = (
    type: "offer" | "answer" | "candidate",
    user: string,
    device: string | undefined,
    payload: object,
  ) =>
    hub
      .request({ type, to: user, ...(device ? { to_device: device } : {}), payload: { room, ...payload } })
      .catch(() => {
        // The peer went away; its room.peer_left closes the link.
      });

  function attach(user: string, link: Link, channel: RTCDataChannel) {
    link.channel = channel;
    channel.binaryType = "arraybuffer";
    channel.onopen = () => events.onState(user, "open");
    channel.onclose = () => events.onState(user, "closed");
    channel.onmessage = (e) => {
      if (typeof e.data === "string") {
        const msg = JSON.parse(e.data) as { kind: string; text?: string; name?: string; size?: number };
        if (msg.kind === "text") events.onText(user, msg.text ?? "");
        if (msg.kind === "file")
          link.incoming = { name: msg.name ?? "file", size: msg.size ?? 0, chunks: [], received: 0 };
        return;
      }
      const incoming = link.incoming;
      if (!incoming) return;
      incoming.chunks.push(e.data as ArrayBuffer);
      incoming.received += (e.data as ArrayBuffer).byteLength;
      if (incoming.received >= incoming.size) {
        link.incoming = undefined;
        const blob = new Blob(incoming.chunks);
        void blob.arrayBuffer().then(async (buf) => {
          events.onFile(user, {
            name: incoming.name,
            size: buf.byteLength,
            sha256: await sha256(buf),
            url: URL.createObjectURL(blob),
          });
        });
      }
    };
  }

  function linkFor(user: string, device?: string): Link {
    let link = links.get(user);
    if (link) {
      if (device) link.device = device;
      return link;
    }
    const pc = new RTCPeerConnection({ iceServers: [] });
    const made: Link = { pc, early: [], ...(device ? { device } : {}) };
    link = made;
    links.set(user, made);
    pc.onicecandidate = (e) => {
      if (e.candidate) void relay("candidate", user, made.device, { candidate: e.candidate.toJSON() });
    };
    pc.onconnectionstatechange = () => events.onState(user, pc.connectionState);
    pc.ondatachannel = (e) => attach(user, made, e.channel);
    return made;
  }

  async function flush(link: Link) {
    for (const c of link.early.splice(0)) await link.pc.addIceCandidate(c).catch(() => undefined);
  }

  async function call(user: string) {
    if (user === me || !(me < user) || links.has(user)) return;
    const link = linkFor(user);
    attach(user, link, link.pc.createDataChannel("warren"));
    await link.pc.setLocalDescription(await link.pc.createOffer());
    await relay("offer", user, undefined, { sdp: link.pc.localDescription?.toJSON() });
  }

  const offs = [
    hub.on("offer", async (f) => {
      const p = f.payload as { room?: string; sdp?: RTCSessionDescriptionInit };
      if (p?.room !== room || !p.sdp) return;
      const link = linkFor(f.from, f.from_device);
      await link.pc.setRemoteDescription(p.sdp);
      await flush(link);
      await link.pc.setLocalDescription(await link.pc.createAnswer());
      await relay("answer", f.from, f.from_device, { sdp: link.pc.localDescription?.toJSON() });
    }),
    hub.on("answer", async (f) => {
      const p = f.payload as { room?: string; sdp?: RTCSessionDescriptionInit };
      const link = links.get(f.from);
      if (p?.room !== room || !p.sdp || !link) return;
      link.device = f.from_device;
      await link.pc.setRemoteDescription(p.sdp);
      await flush(link);
    }),
    hub.on("candidate", async (f) => {
      const p = f.payload as { room?: string; candidate?: RTCIceCandidateInit };
      if (p?.room !== room || !p.candidate) return;
      const link = linkFor(f.from, f.from_device);
      if (!link.pc.remoteDescription) link.early.push(p.candidate);
      else await link.pc.addIceCandidate(p.candidate).catch(() => undefined);
    }),
    hub.on("room.peer_joined", (f) => {
      if (f.room === room) void call(f.user);
    }),
    hub.on("room.peer_left", (f) => {
      if (f.room !== room) return;
      links.get(f.user)?.pc.close();
      links.delete(f.user);
      events.onState(f.user, "closed");
    }),
  ];

  return {
    /** Offers to the members already there (those this side offers to). */
    start(members: string[]) {
      for (const user of members) void call(user);
    },
    sendText(text: string) {
      const line = JSON.stringify({ kind: "text", text });
      for (const link of links.values()) if (link.channel?.readyState === "open") link.channel.send(line);
    },
    async sendFile(file: File) {
      const data = await file.arrayBuffer();
      for (const link of links.values()) {
        const ch = link.channel;
        if (ch?.readyState !== "open") continue;
        ch.send(JSON.stringify({ kind: "file", name: file.name, size: data.byteLength }));
        for (let i = 0; i < data.byteLength; i += CHUNK) {
          while (ch.bufferedAmount > 1024 * 1024) await new Promise((r) => setTimeout(r, 20));
          ch.send(data.slice(i, i + CHUNK));
        }
      }
      return sha256(data);
    },
    close() {
      for (const off of offs) off();
      for (const link of links.values()) link.pc.close();
      links.clear();
    },
  };
}
