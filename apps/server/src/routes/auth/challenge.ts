import { AuthResult, Challenge, ChallengeBody, VerifyBody } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { toUser } from "../../services/accounts.js";
import { errors, type RouteDeps, typed } from "../shared.js";

/** Ed25519 challenge-response sign-in: sign 32 random bytes with a key of the account. */
export async function challengeRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);

  r.post(
    "/auth/challenge",
    {
      schema: {
        tags: ["auth"],
        summary: "Get 32 random bytes to sign with an Ed25519 key of the account",
        body: ChallengeBody,
        response: { 200: Challenge, ...errors(400) },
      },
    },
    async (request) => services.signIn.challenge(request.body),
  );

  r.post(
    "/auth/verify",
    {
      schema: {
        tags: ["auth"],
        summary: "Sign in with a signature over a challenge's bytes; a challenge works once",
        body: VerifyBody,
        response: { 200: AuthResult, ...errors(400, 401, 429) },
      },
    },
    async (request) => {
      const { challenge_id, signature } = request.body;
      const { user, tokens } = await services.signIn.verify(challenge_id, signature, request.context);
      return { user: toUser(user), tokens };
    },
  );
}
