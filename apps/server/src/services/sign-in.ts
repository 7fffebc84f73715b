import { randomBytes, randomInt } from "node:crypto";
import { type Challenge, type ChallengeBody, type LoginBody, type Tokens, uuidv7 } from "@warren/protocol";
import { AppError } from "../errors.js";
import type { Repositories } from "../storage/repositories/index.js";
import type { UserRow } from "../storage/repositories/users.js";
import type { Audit } from "./audit.js";
import type { BruteForceGuard } from "./brute-force.js";
import { isoAfter, nowIso, type RequestContext } from "./context.js";
import { verifyPassword } from "./passwords.js";
import { validatePublicKey, verifyEd25519 } from "./public-keys.js";
import type { Sessions } from "./sessions.js";
import type { Totp } from "./totp.js";

export interface SignInResult {
  user: UserRow;
  tokens: Tokens;
}

/** Password (+ TOTP) sign-in and Ed25519 challenge-response sign-in (seeds 001, 003). */
export function createSignIn(
  repos: Repositories,
  sessions: Sessions,
  totp: Totp,
  guard: BruteForceGuard,
  audit: Audit,
  options: { challengeTtlMs: number },
) {
  const failed = async (reason: string, user: UserRow | undefined, ctx: RequestContext) => {
    await audit.record("signin.failure", { actorId: user?.id, target: user?.id, details: { reason } }, ctx);
  };

  return {
    async password(body: LoginBody, ctx: RequestContext): Promise<SignInResult> {
      const identifier = body.username ?? body.email;
      if (!identifier) {
        throw new AppError("invalid_request", "Give a username or an email", {
          details: { fields: ["username", "email"] },
        });
      }
      const user = body.username
        ? await repos.users.byUsername(body.username)
        : await repos.users.byEmail(identifier);
      // Failures count per account however it was named (username or email; key
      // sign-in counts by id too), so switching names does not buy more guesses. An
      // unknown name counts by itself (a UUID is never a username or an email).
      const accountKey = user?.id ?? identifier;
      await guard.check(accountKey, ctx.ip);
      // verifyPassword spends the same time when there is no user or no password.
      if (!(await verifyPassword(user?.password_hash, body.password)) || !user) {
        await guard.fail(accountKey, ctx.ip);
        await failed("password", user, ctx);
        throw new AppError("invalid_credentials");
      }
      if (user.totp_enabled_at) {
        if (!body.totp) throw new AppError("totp_required");
        if (!(await totp.check(user, body.totp, ctx))) {
          await guard.fail(accountKey, ctx.ip);
          await failed("totp", user, ctx);
          throw new AppError("invalid_totp");
        }
      }
      await guard.succeed(accountKey);
      const tokens = await sessions.start(user.id);
      await audit.record("signin.password", { actorId: user.id, target: tokens.session_id }, ctx);
      return { user, tokens };
    },

    /**
     * Issues a challenge for an account that has an Ed25519 key. For an unknown account
     * the answer looks the same but can never verify, so this call alone does not reveal
     * which accounts sign in by key. (Verify does: a stored challenge with a bad
     * signature answers invalid_signature, a decoy invalid_challenge; see docs/security.md.)
     */
    async challenge(body: ChallengeBody): Promise<Challenge> {
      let userId: string | undefined;
      if (body.public_key) {
        const key = await repos.keys.byPublicKey("ed25519", validatePublicKey("ed25519", body.public_key));
        userId = key?.user_id;
      } else if (body.username) {
        const user = await repos.users.byUsername(body.username);
        const keys = user ? await repos.keys.listForUser(user.id) : [];
        userId = keys.some((k) => k.kind === "ed25519") ? user?.id : undefined;
      } else {
        throw new AppError("invalid_request", "Give a username or a public_key", {
          details: { fields: ["username", "public_key"] },
        });
      }
      const challenge: Challenge = {
        challenge_id: uuidv7(),
        challenge: randomBytes(32).toString("base64"),
        expires_at: isoAfter(options.challengeTtlMs),
      };
      if (userId) {
        await repos.challenges.insert({
          id: challenge.challenge_id,
          user_id: userId,
          challenge: challenge.challenge,
          expires_at: challenge.expires_at,
          used_at: null,
        });
        // Expired challenges are useless; sweep them now and then.
        if (randomInt(50) === 0) await repos.challenges.purge(nowIso());
      }
      return challenge;
    },

    /** Verifies a signed challenge. A challenge is spent by its first use, right or wrong. */
    async verify(challengeId: string, signature: string, ctx: RequestContext): Promise<SignInResult> {
      await guard.check(undefined, ctx.ip);
      const row = await repos.challenges.consume(challengeId, nowIso());
      if (!row) {
        await guard.fail(undefined, ctx.ip);
        await failed("challenge", undefined, ctx);
        throw new AppError("invalid_challenge");
      }
      const user = await repos.users.byId(row.user_id);
      if (!user) throw new AppError("invalid_challenge");
      await guard.check(user.id, ctx.ip);
      const keys = (await repos.keys.listForUser(user.id)).filter((k) => k.kind === "ed25519");
      const message = Buffer.from(row.challenge, "base64");
      const key = keys.find((k) => verifyEd25519(k.public_key, message, signature));
      if (!key) {
        await guard.fail(user.id, ctx.ip);
        await failed("signature", user, ctx);
        throw new AppError("invalid_signature");
      }
      await guard.succeed(user.id);
      const tokens = await sessions.start(user.id, key.id);
      await audit.record("signin.key", { actorId: user.id, target: tokens.session_id }, ctx);
      return { user, tokens };
    },
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
