"use client";
import type { RoomInfo, RoomMember } from "@warren/protocol";
import Link from "next/link";
import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { RequireAuth } from "../../components/require-auth";
import { Badge, Button, Card, ErrorText, Field, ScrollRegion } from "../../components/ui";
import { useI18n } from "../../lib/i18n";
import { useParam } from "../../lib/navigate";
import { useSession } from "../../lib/session";
import { useHub } from "../../lib/use-hub";
import { createRoomMesh } from "../../lib/webrtc";

interface Line {
  from: string;
  text: string;
  file?: { name: string; size: number; sha256: string; url: string };
}

function Room({ id }: { id: string }) {
  const { hub, hubState, me, fail } = useSession();
  const { t, formatNumber } = useI18n();
  const [room, setRoom] = useState<RoomInfo>();
  const [members, setMembers] = useState<RoomMember[]>([]);
  const [states, setStates] = useState<Record<string, string>>({});
  const [lines, setLines] = useState<Line[]>([]);
  const [text, setText] = useState("");
  const [password, setPassword] = useState("");
  const [needPassword, setNeedPassword] = useState(false);
  const [error, setError] = useState<string>();
  const mesh = useRef<ReturnType<typeof createRoomMesh>>(undefined);
  const names = useRef(new Map<string, string>());

  const join = useCallback(
    async (pw?: string) => {
      if (!hub || !me) return;
      setError(undefined);
      try {
        mesh.current?.close();
        const m = createRoomMesh({
          hub,
          room: id,
          me: me.id,
          events: {
            onState: (user, state) => setStates((s) => ({ ...s, [user]: state })),
            onText: (user, line) =>
              setLines((l) => [...l, { from: names.current.get(user) ?? user, text: line }]),
            onFile: (user, file) =>
              setLines((l) => [...l, { from: names.current.get(user) ?? user, text: file.name, file }]),
          },
        });
        mesh.current = m;
        const result = await hub.request({ type: "room.join", room: id, ...(pw ? { password: pw } : {}) });
        setRoom(result.room);
        setMembers(result.members);
        setNeedPassword(false);
        for (const member of result.members) names.current.set(member.user, member.username);
        m.start(result.members.map((member) => member.user));
      } catch (err) {
        const message = fail(err);
        if (/password/i.test(message)) setNeedPassword(true);
        setError(message);
      }
    },
    [hub, me, id, fail],
  );

  // Once per socket: after a reconnect the SDK joins the room again by itself, and the
  // peer connections, which do not run through the hub, carry on.
  const joinedOn = useRef<unknown>(undefined);
  useEffect(() => {
    if (hubState === "online" && hub && joinedOn.current !== hub) {
      joinedOn.current = hub;
      void join();
    }
  }, [hubState, hub, join]);
  useEffect(() => () => mesh.current?.close(), []);

  useHub("room.peer_joined", (f) => {
    if (f.room !== id) return;
    names.current.set(f.user, f.username);
    setMembers((list) =>
      list.some((m) => m.user === f.user)
        ? list
        : [...list, { user: f.user, username: f.username, online: true }],
    );
  });
  useHub("room.peer_left", (f) => {
    if (f.room === id) setMembers((list) => list.filter((m) => m.user !== f.user));
  });

  function send(e: FormEvent) {
    e.preventDefault();
    if (!text) return;
    mesh.current?.sendText(text);
    setLines((l) => [...l, { from: me?.username ?? "", text }]);
    setText("");
  }

  async function sendFile(file: File | undefined) {
    if (!file || !mesh.current) return;
    const sha256 = await mesh.current.sendFile(file);
    setLines((l) => [
      ...l,
      {
        from: me?.username ?? "",
        text: file.name,
        file: { name: file.name, size: file.size, sha256, url: "" },
      },
    ]);
  }

  return (
    <>
      <h1 className="text-2xl font-bold">{room?.name ?? t("room.title")}</h1>
      <ErrorText message={error} />
      {needPassword ? (
        <form
          className="flex items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            void join(password);
          }}
        >
          <Field
            label={t("auth.password")}
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <Button type="submit">{t("room.join")}</Button>
        </form>
      ) : null}
      <p className="text-sm text-slate-700">
        {t("room.share")}{" "}
        <code className="break-all">{typeof window === "undefined" ? "" : window.location.href}</code>
      </p>
      <div className="grid gap-4 lg:grid-cols-3">
        <Card title={t("room.members")}>
          <ul className="divide-y divide-slate-200" data-testid="room-members">
            {members.map((m) => (
              <li key={m.user} className="flex items-center gap-2 py-2">
                <span>{m.username}</span>
                {m.user !== me?.id ? (
                  <Badge
                    tone={states[m.user] === "open" || states[m.user] === "connected" ? "green" : "slate"}
                  >
                    <span data-testid="peer-state">{t(`room.state.${states[m.user] ?? "waiting"}`)}</span>
                  </Badge>
                ) : null}
              </li>
            ))}
          </ul>
        </Card>
        <div className="lg:col-span-2">
          <Card title={t("room.channel")}>
            <p className="mb-2 text-sm text-slate-700">{t("room.p2p")}</p>
            <ScrollRegion label={t("room.channel")} className="mb-3 max-h-80 overflow-y-auto">
              <ol className="flex flex-col gap-1" aria-live="polite" data-testid="room-log">
                {lines.map((l, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: the log only grows
                  <li key={i} className="rounded bg-slate-100 px-2 py-1 text-sm">
                    <span className="font-semibold">{l.from}: </span>
                    {l.file ? (
                      <>
                        {l.file.url ? (
                          <a className="text-indigo-800 underline" href={l.file.url} download={l.file.name}>
                            {l.file.name}
                          </a>
                        ) : (
                          l.file.name
                        )}{" "}
                        ({t("room.bytes", { n: formatNumber(l.file.size) })}, SHA-256{" "}
                        <code data-testid="file-hash">{l.file.sha256}</code>)
                      </>
                    ) : (
                      l.text
                    )}
                  </li>
                ))}
              </ol>
            </ScrollRegion>
            <form onSubmit={send} className="flex flex-wrap gap-2">
              <label className="sr-only" htmlFor="room-text">
                {t("chat.message")}
              </label>
              <input
                id="room-text"
                className="min-w-0 flex-1 rounded border border-slate-500 px-2 py-1.5"
                value={text}
                onChange={(e) => setText(e.target.value)}
              />
              <Button type="submit">{t("chat.send")}</Button>
              <label className="rounded border border-slate-400 px-3 py-2 text-sm">
                {t("room.sendFile")}
                <input
                  type="file"
                  className="sr-only"
                  data-testid="room-file"
                  onChange={(e) => void sendFile(e.target.files?.[0])}
                />
              </label>
            </form>
          </Card>
        </div>
      </div>
    </>
  );
}

function Lobby() {
  const { hub, hubState, fail } = useSession();
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [rooms, setRooms] = useState<RoomInfo[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (hub && hubState === "online")
      hub
        .request({ type: "room.list" })
        .then((r) => setRooms(r.rooms))
        .catch((err) => setError(fail(err)));
  }, [hub, hubState, fail]);
  async function create(e: FormEvent) {
    e.preventDefault();
    if (!hub) return;
    try {
      const made = await hub.request({ type: "room.create", name, ...(password ? { password } : {}) });
      window.location.assign(`/room/?id=${made.room.id}`);
    } catch (err) {
      setError(fail(err));
    }
  }
  return (
    <>
      <h1 className="text-2xl font-bold">{t("room.lobby")}</h1>
      <Card title={t("room.create")}>
        <form onSubmit={create} className="grid gap-3 sm:grid-cols-3">
          <Field
            label={t("room.name")}
            name="room-name"
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
          <Field
            label={t("room.password")}
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <div className="flex items-end">
            <Button type="submit" disabled={hubState !== "online"}>
              {t("room.createSubmit")}
            </Button>
          </div>
        </form>
        <ErrorText message={error} />
      </Card>
      <Card title={t("room.mine")}>
        <ul className="divide-y divide-slate-200">
          {rooms.map((r) => (
            <li key={r.id} className="py-2">
              <Link className="text-indigo-800 underline" href={`/room/?id=${r.id}`}>
                {r.name}
              </Link>
            </li>
          ))}
        </ul>
      </Card>
    </>
  );
}

export default function RoomPage() {
  const id = useParam("id");
  return <RequireAuth>{id ? <Room key={id} id={id} /> : <Lobby />}</RequireAuth>;
}
