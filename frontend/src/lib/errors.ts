// The API's one error shape: {"error": {"code", "message", "details": [{field, message}]}}.

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: FieldError[];

  constructor(status: number, code: string, message: string, details: FieldError[] = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** The message for one field (the last path segment of `field` is matched), if any. */
  fieldMessage(field: string): string | undefined {
    return this.details.find((d) => d.field === field || d.field.split(".").pop() === field)?.message;
  }

  static fromBody(status: number, body: unknown): ApiError {
    const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
    if (error && typeof error.code === "string") {
      const details = Array.isArray(error.details)
        ? error.details
            .filter((d): d is FieldError => typeof d?.field === "string" && typeof d?.message === "string")
            .map((d) => ({ field: d.field, message: d.message }))
        : [];
      return new ApiError(status, error.code, String(error.message ?? error.code), details);
    }
    return new ApiError(status, status >= 500 ? "unavailable" : "error", `The server answered ${status}`);
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong";
}
