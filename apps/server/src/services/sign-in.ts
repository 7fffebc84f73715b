import { randomBytes, randomInt } from "node:crypto";
import {
  type Challenge,
  type ChallengeBody,
  type ChangePasswordBody,
  type LoginBody,
  type ReauthenticateBody,
  type Tokens,
  uuidv7,
} from "@warren/protocol";
import { type Clock, systemClock } from "../clock.js";
import { AppError } from "../errors.js";
import type { Repositories } from "../storage/repositories/index.js";
import type { UserRow } from "../storage/repositories/users.js";
import type { Audit } from "./audit.js";
import type { BruteForceGuard } from "./brute-force.js";
import { isoAfter, nowIso, type RequestContext } from "./context.js";
import { hashPassword, verifyPassword } from "./passwords.js";
import { validatePublicKey, verifyEd25519 } from "./public-keys.js";
import type { Principal, Sessions } from "./sessions.js";
import type { Totp } from "./totp.js";

export interface SignInResult {
  user: UserRow;
  tokens: Tokens;
}

/** Password (+ TOTP) sign-in and Ed25519 challenge-response sign-in. */
export function createSignIn(
  repos: Pick<Repositories, "users" | "keys" | "challenges">,
  sessions: Sessions,
  totp: Totp,
  guard: BruteForceGuard,
  audit: Audit,
  options: { challengeTtlMs: number; clock?: Clock },
) {
  const clock = options.clock ?? systemClock;
  const failed = async (reason: string, user: UserRow | undefined, ctx: RequestContext) => {
    await audit.record("signin.failure", { actorId: user?.id, target: user?.id, details: { reason } }, ctx);
  };

  /**
   * Checks a password (and TOTP when on) for `user`. Failures count per account
   * (`accountKey`) and per address, so guesses made here and at sign-in add up.
   */
  const provePassword = async (
    user: UserRow | undefined,
    accountKey: string,
    password: string,
    code: string | undefined,
    ctx: RequestContext,
  ): Promise<UserRow> => {
    await guard.check(accountKey, ctx.ip);
    // verifyPassword spends the same time when there is no user or no password.
    if (!(await verifyPassword(user?.password_hash, password)) || !user) {
      await guard.fail(accountKey, ctx.ip);
      await failed("password", user, ctx);
      throw new AppError("invalid_credentials");
    }
    if (user.totp_enabled_at) {
      if (!code) throw new AppError("totp_required");
      if (!(await totp.check(user, code, ctx))) {
        await guard.fail(accountKey, ctx.ip);
        await failed("totp", user, ctx);
        throw new AppError("invalid_totp");
      }
    }
    await guard.succeed(accountKey);
    return user;
  };

  /**
   * Checks a signature over a stored challenge by one of the account's Ed25519 keys.
   * `expectedUser`: the challenge must belong to that account (reauthentication).
   */
  const proveSignature = async (
    challengeId: string,
    signature: string,
    expectedUser: string | undefined,
    ctx: RequestContext,
  ): Promise<{ user: UserRow; keyId: string }> => {
    await guard.check(expectedUser, ctx.ip);
    const row = await repos.challenges.consume(challengeId, nowIso(clock.now()));
    if (!row || (expectedUser !== undefined && row.user_id !== expectedUser)) {
      await guard.fail(expectedUser, ctx.ip);
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
    return { user, keyId: key.id };
  };

  return {
    /**
     * A signed-in holder proves again who they are: the password (+TOTP), or a signature
     * over a challenge by one of the account's keys. The session counts as fresh for
     * credential changes for FRESH_AUTH_WINDOW.
     */
    async reauthenticate(principal: Principal, body: ReauthenticateBody, ctx: RequestContext) {
      if (body.password !== undefined) {
        const user = await repos.users.byId(principal.userId);
        await provePassword(user, principal.userId, body.password, body.totp, ctx);
      } else if (body.challenge_id !== undefined && body.signature !== undefined) {
        await proveSignature(body.challenge_id, body.signature, principal.userId, ctx);
      } else {
        throw new AppError("invalid_request", "Give password (and totp), or challenge_id and signature", {
          details: { fields: ["password", "challenge_id", "signature"] },
        });
      }
      const result = await sessions.proved(principal);
      await audit.record(
        "session.reauthenticate",
        { actorId: principal.userId, target: principal.sessionId },
        ctx,
      );
      return result;
    },

    /**
     * Sets a new password. An account that has one proves it with the current password
     * (+TOTP); a key-only account setting its first needs a fresh session. Every other
     * session ends unless revoke_other_sessions is false: whoever else held one may be
     * the reason for the change.
     */
    async changePassword(principal: Principal, body: ChangePasswordBody, ctx: RequestContext) {
      const user = await repos.users.byId(principal.userId);
      if (!user) throw new AppError("not_found", "No such user");
      if (user.password_hash !== null) {
        if (body.current_password === undefined) {
          throw new AppError("invalid_request", "current_password is required", {
            details: { field: "body.current_password" },
          });
        }
        await provePassword(user, user.id, body.current_password, body.totp, ctx);
        await sessions.proved(principal);
      } else {
        sessions.requireFresh(principal);
      }
      await repos.users.update(user.id, {
        password_hash: await hashPassword(body.new_password),
        updated_at: nowIso(clock.now()),
      });
      const revoked =
        body.revoke_other_sessions === false
          ? 0
          : await sessions.revokeOthers(user.id, principal.sessionId, "password_change", ctx);
      await audit.record("account.password_change", { actorId: user.id, target: user.id }, ctx);
      return { revoked_sessions: revoked };
    },

    async password(body: LoginBody, ctx: RequestContext): Promise<SignInResult> {
      const identifier = body.username ?? body.email;
      if (!identifier) {
        throw new AppError("invalid_request", "Give a username or an email", {
          details: { fields: ["username", "email"] },
        });
      }
      const named = body.username
        ? await repos.users.byUsername(body.username)
        : await repos.users.byEmail(identifier);
      // Failures count per account however it was named (username or email; key
      // sign-in counts by id too), so switching names does not buy more guesses. An
      // unknown name counts by itself (a UUID is never a username or an email).
      const proven = await provePassword(named, named?.id ?? identifier, body.password, body.totp, ctx);
      const tokens = await sessions.start(proven.id, null, ctx);
      const user = proven;
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
        expires_at: isoAfter(options.challengeTtlMs, clock.now()),
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
        if (randomInt(50) === 0) await repos.challenges.purge(nowIso(clock.now()));
      }
      return challenge;
    },

    /** Verifies a signed challenge. A challenge is spent by its first use, right or wrong. */
    async verify(challengeId: string, signature: string, ctx: RequestContext): Promise<SignInResult> {
      const { user, keyId } = await proveSignature(challengeId, signature, undefined, ctx);
      const tokens = await sessions.start(user.id, keyId, ctx);
      await audit.record("signin.key", { actorId: user.id, target: tokens.session_id }, ctx);
      return { user, tokens };
    },
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
