import type { Scope } from "./types.js";

const segment = /^[A-Za-z0-9_-]{1,64}$/;

/** @internal The scope key of a scope: `{ organization: 1234 }` → `organization.1234`. */
export function scopeKey(scope: Scope): string {
  const parts = typeof scope === "string"
    ? (scope === "" ? [] : scope.split("."))
    : Object.entries(scope).flatMap(([type, id]) => [type, String(id)]);
  if (parts.length % 2 !== 0 || parts.some((part) => !segment.test(part))) {
    throw new TypeError(`Invalid scope ${JSON.stringify(scope)}: type.id pairs of 1 to 64 characters of [A-Za-z0-9_-], e.g. "organization.1234".`);
  }
  return parts.join(".");
}

/** @internal The raw endpoint path of a scope key: `organization.1234` → `/organization/1234`. */
export function scopePath(key: string): string {
  return "/" + key.split(".").join("/");
}

/** @internal Whether `value` is an event id as the hub writes it and accepts as `since`: 32 lowercase hexadecimal digits. */
export function isEventId(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-f]{32}$/.test(value);
}
