import { describe, expect, test } from "vitest";

import { ApiError } from "@/lib/errors";

import { serverErrors, validate } from "./AuthForm";

describe("login and register form errors", () => {
  test("client-side checks mirror the API's password rules", () => {
    expect(validate("register", "nope", "short1")).toEqual({
      email: "Enter an email address like name@example.com",
      password: "Use 8 to 128 characters",
    });
    expect(validate("register", "a@b.co", "onlyletters").password).toMatch(/letter and one digit/);
    expect(validate("register", "a@b.co", " correct-horse-9").password).toMatch(/spaces/);
    expect(validate("register", "a@b.co", "correct-horse-9")).toEqual({});
    expect(validate("login", "a@b.co", "x")).toEqual({}); // login does not re-check the rules
  });

  test("the server's errors land next to the field they concern", () => {
    expect(serverErrors(new ApiError(401, "unauthorized", "invalid credentials"), "register")).toEqual({
      email: "This email is already registered — log in instead",
    });
    expect(
      serverErrors(new ApiError(422, "invalid_input", "password: must not be the email", [{ field: "password", message: "must not be the email" }])),
    ).toEqual({ email: undefined, password: "must not be the email" });
    expect(serverErrors(new ApiError(401, "unauthorized", "bad credentials"))).toEqual({ form: "Wrong email or password" });
    expect(serverErrors(new ApiError(429, "rate_limited", "slow down")).form).toMatch(/Too many/);
  });
});
