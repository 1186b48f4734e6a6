"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useState } from "react";

import { Field } from "@/components/ui/Field";
import { ApiError, errorMessage } from "@/lib/errors";
import { useAuthState, useServices } from "@/lib/services";

type Mode = "login" | "register";
type Errors = { email?: string; password?: string; form?: string };

/** Client-side checks mirror the API's rules (docs/api.md, "Accounts"); the server's answer wins. */
export function validate(mode: Mode, email: string, password: string): Errors {
  const errors: Errors = {};
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim())) errors.email = "Enter an email address like name@example.com";
  if (!password) errors.password = "Enter your password";
  else if (mode === "register") {
    if (password.length < 8 || password.length > 128) errors.password = "Use 8 to 128 characters";
    else if (!/[A-Za-z]/.test(password) || !/\d/.test(password)) errors.password = "Use at least one letter and one digit";
    else if (password !== password.trim()) errors.password = "No spaces at the start or end";
  }
  return errors;
}

export function serverErrors(error: unknown, mode: Mode = "login"): Errors {
  if (error instanceof ApiError) {
    // Registering answers alike for a new and a taken email; the login after it is refused when
    // the email already has an account with another password.
    if (error.status === 401 && mode === "register")
      return { email: "This email is already registered — log in instead" };
    if (error.status === 401) return { form: "Wrong email or password" };
    if (error.status === 429) return { form: "Too many attempts. Wait a few minutes and try again." };
    const email = error.fieldMessage("email");
    const password = error.fieldMessage("password");
    if (email || password) return { email, password };
  }
  return { form: errorMessage(error) };
}

function safeNext(): string {
  const next = new URLSearchParams(window.location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/projects/";
}

export function AuthForm({ mode }: { mode: Mode }) {
  const { session } = useServices();
  const state = useAuthState();
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (state === "authenticated") router.replace(safeNext());
  }, [state, router]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const found = validate(mode, email, password);
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      if (mode === "register") await session.register(email.trim(), password);
      await session.login(email.trim(), password);
    } catch (error) {
      setErrors(serverErrors(error, mode));
    } finally {
      setBusy(false);
    }
  }

  const title = mode === "login" ? "Log in to Pulse" : "Create your Pulse account";
  return (
    <main className="mx-auto mt-16 max-w-sm px-4">
      <h1 className="mb-6 text-2xl font-semibold">{title}</h1>
      <form noValidate onSubmit={submit} className="card space-y-4" aria-label={title}>
        {errors.form && (
          <p role="alert" className="rounded-md bg-red-50 p-2 text-sm text-red-800">
            {errors.form}
          </p>
        )}
        <Field
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errors.email}
          required
        />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete={mode === "login" ? "current-password" : "new-password"}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.password}
          hint={mode === "register" ? "8–128 characters, with a letter and a digit" : undefined}
          required
        />
        <button type="submit" className="btn-primary w-full" disabled={busy}>
          {busy ? "Please wait…" : mode === "login" ? "Log in" : "Create account"}
        </button>
      </form>
      <p className="mt-4 text-sm text-gray-700">
        {mode === "login" ? (
          <>
            No account yet?{" "}
            <Link prefetch={false} className="text-blue-700 underline" href="/register/">
              Create one
            </Link>
          </>
        ) : (
          <>
            Already registered?{" "}
            <Link prefetch={false} className="text-blue-700 underline" href="/login/">
              Log in
            </Link>
          </>
        )}
      </p>
    </main>
  );
}
