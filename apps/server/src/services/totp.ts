import { randomInt } from "node:crypto";
import { uuidv7 } from "@warren/protocol";
import { Secret, TOTP } from "otpauth";
import { AppError } from "../errors.js";
import { type Sealer, totpContext } from "../sealer.js";
import type { RecoveryCodesRepository } from "../storage/repositories/recovery-codes.js";
import type { UserRow, UsersRepository } from "../storage/repositories/users.js";
import type { Audit } from "./audit.js";
import type { BruteForceGuard } from "./brute-force.js";
import { nowIso, type RequestContext } from "./context.js";
import { sha256 } from "./tokens.js";

const PERIOD = 30;
const RECOVERY_CODES = 10;
// No 0/O, 1/I/L: recovery codes are read off paper.
const RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

function totpFor(secret: string, issuer: string, label: string): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: "SHA1",
    digits: 6,
    period: PERIOD,
    secret: Secret.fromBase32(secret),
  });
}

function newRecoveryCode(): string {
  let s = "";
  for (let i = 0; i < 10; i++) s += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}

/** Recovery codes compare without case, dashes or spaces. */
function normalizeRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "");
}

/**
 * TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s). A code is accepted one step
 * either side of now, and each time step works once per account.
 */
export function createTotp(
  users: UsersRepository,
  recovery: RecoveryCodesRepository,
  audit: Audit,
  guard: BruteForceGuard,
  options: { issuer: string; sealer: Sealer },
) {
  // Stored sealed (sealer.ts): a copy of the database alone does not give the second factor away.
  const secretOf = (user: UserRow & { totp_secret: string }) =>
    options.sealer.open(user.totp_secret, totpContext(user.id));

  const load = async (userId: string): Promise<UserRow> => {
    const user = await users.byId(userId);
    if (!user) throw new AppError("invalid_token", "The account of this token no longer exists");
    return user;
  };

  /** True when `code` is a current TOTP code or an unused recovery code; consumes it. */
  const check = async (user: UserRow, code: string, ctx?: RequestContext): Promise<boolean> => {
    if (!user.totp_secret) return false;
    const trimmed = code.replace(/\s/g, "");
    if (/^\d{6}$/.test(trimmed)) {
      // One reading of the clock for both the check and the step it claims.
      const timestamp = Date.now();
      const delta = totpFor(
        secretOf(user as UserRow & { totp_secret: string }),
        options.issuer,
        user.username,
      ).validate({
        token: trimmed,
        timestamp,
        window: 1,
      });
      if (delta === null) return false;
      const step = Math.floor(timestamp / 1000 / PERIOD) + delta;
      return users.claimTotpStep(user.id, step, nowIso());
    }
    const used = await recovery.consume(user.id, sha256(normalizeRecoveryCode(code)), nowIso());
    if (used) await audit.record("totp.recovery_used", { actorId: user.id, target: user.id }, ctx);
    return used;
  };

  /**
   * Codes typed into setup and removal count as sign-in failures too (same per-account
   * and per-address limits): a stolen access token must not buy unlimited guesses.
   */
  const guarded = async (user: UserRow, ctx: RequestContext, attempt: () => Promise<boolean>) => {
    await guard.check(user.id, ctx.ip);
    if (await attempt()) return;
    await guard.fail(user.id, ctx.ip);
    throw new AppError("invalid_totp");
  };

  return {
    check,

    async setup(userId: string, ctx: RequestContext): Promise<{ secret: string; otpauth_url: string }> {
      const user = await load(userId);
      if (user.totp_enabled_at) throw new AppError("totp_already_enabled");
      const secret = new Secret({ size: 20 }).base32;
      await users.update(userId, {
        totp_secret: options.sealer.seal(secret, totpContext(userId)),
        totp_last_step: null,
        updated_at: nowIso(),
      });
      await audit.record("totp.setup", { actorId: userId, target: userId }, ctx);
      return { secret, otpauth_url: totpFor(secret, options.issuer, user.username).toString() };
    },

    async confirm(userId: string, code: string, ctx: RequestContext): Promise<{ recovery_codes: string[] }> {
      const user = await load(userId);
      if (user.totp_enabled_at) throw new AppError("totp_already_enabled");
      if (!user.totp_secret) throw new AppError("totp_not_started");
      // Only a TOTP code can confirm: recovery codes do not exist yet.
      await guarded(user, ctx, async () => /^\d{6}$/.test(code.trim()) && check(user, code.trim(), ctx));
      const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
      await recovery.replace(
        userId,
        codes.map((c) => ({
          id: uuidv7(),
          user_id: userId,
          code_hash: sha256(normalizeRecoveryCode(c)),
          used_at: null,
        })),
      );
      await users.update(userId, { totp_enabled_at: nowIso(), updated_at: nowIso() });
      await audit.record("totp.enable", { actorId: userId, target: userId }, ctx);
      return { recovery_codes: codes };
    },

    async disable(userId: string, code: string, ctx: RequestContext): Promise<void> {
      const user = await load(userId);
      if (!user.totp_enabled_at) throw new AppError("totp_not_enabled");
      await guarded(user, ctx, () => check(user, code, ctx));
      await users.update(userId, {
        totp_secret: null,
        totp_enabled_at: null,
        totp_last_step: null,
        updated_at: nowIso(),
      });
      await recovery.deleteAll(userId);
      await audit.record("totp.disable", { actorId: userId, target: userId }, ctx);
    },
  };
}

export type Totp = ReturnType<typeof createTotp>;
