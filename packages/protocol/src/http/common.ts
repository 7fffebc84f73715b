import { Type } from "typebox";
import { UUID_PATTERN } from "../ids.js";

export const Id = Type.String({ pattern: UUID_PATTERN, description: "UUIDv7" });
export const Timestamp = Type.String({ format: "date-time", description: "UTC, ISO 8601" });

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: "stable snake_case code; see docs/protocol.md" }),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: "ErrorResponse" },
);

export const Health = Type.Object({ status: Type.Literal("ok") });
export const Ready = Type.Object({ status: Type.String(), database: Type.String() });
