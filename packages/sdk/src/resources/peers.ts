import type {
  NetworkPeer,
  PeerAddressBody,
  PeerPathReport,
  PeerPathsBody,
  Static,
  WireGuardConfig,
} from "@warren/protocol";
import type { Http } from "../transport/http.js";
import { path } from "./path.js";

/** A device in a network (/v1/peers/:id); adding one is networks.addPeer. */
export function peersResource(http: Http) {
  const one = (id: string) => path`/v1/peers/${id}`;
  return {
    remove: (id: string) => http<void>("DELETE", one(id)),
    /** Where my device can be reached: "host:port" or "[v6]:port". */
    setEndpoint: (id: string, endpoint: string) =>
      http<NetworkPeer>("PATCH", `${one(id)}/endpoint`, { endpoint }),
    /** The path my device uses to each other peer (direct or relay, and why); members hear peer.path. */
    reportPaths: (id: string, body: PeerPathsBody) => http<PeerPathReport>("PUT", `${one(id)}/paths`, body),
    /** Moves the device to another address (admins and the owner). */
    setAddress: (id: string, body: Static<typeof PeerAddressBody>) =>
      http<NetworkPeer>("PATCH", `${one(id)}/address`, body),
    /** The wg-quick file, with PrivateKey left for the device to fill in. */
    config: (id: string) => http<string>("GET", `${one(id)}/config`),
    /** The same content as JSON (private_key always null). */
    configJson: (id: string) => http<WireGuardConfig>("GET", `${one(id)}/config?format=json`),
  };
}
