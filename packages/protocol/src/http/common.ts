import { Type } from "typebox";
import { UUID_PATTERN } from "../ids.js";

/**
 * Names people read (communities, networks, devices, rooms, key labels, display names):
 * no control characters (C0, DEL, C1), so a name cannot hide text, break a log line or a
 * terminal. NUL is refused everywhere, names or not (see docs/security.md).
 */
export const NAME_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

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
