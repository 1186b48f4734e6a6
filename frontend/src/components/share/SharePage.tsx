"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";

import { ErrorState, Loading } from "@/components/ui/states";
import { createApi } from "@/lib/api";
import { ApiError, errorMessage } from "@/lib/errors";
import { type Services, ServicesContext, useServices } from "@/lib/services";
import { type ShareOpened, ShareSession, tokenFromHash } from "@/lib/share";

import { SharedDashboard } from "./SharedDashboard";
import { SharePasswordPrompt } from "./SharePasswordPrompt";

type State =
  | { step: "opening" }
  | { step: "password"; error: string | null; busy: boolean }
  | { step: "open"; opened: ShareOpened }
  | { step: "failed"; message: string };

/** The public view of a share link: open it (asking for its password when it has one), then the
 *  read-only dashboard, with its own API client on the share session and its own query cache. */
export function SharePage() {
  const app = useServices();
  const [token] = useState(() => (typeof window === "undefined" ? null : tokenFromHash(window.location.hash)));
  const share = useMemo(() => (token ? new ShareSession(app.config.apiUrl, token) : null), [app.config.apiUrl, token]);
  const [state, setState] = useState<State>({ step: "opening" });
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 30_000,
            refetchOnWindowFocus: false,
            retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
          },
        },
      }),
  );
  const services = useMemo<Services | null>(
    () => (share ? { config: app.config, session: app.session, api: createApi(app.config.apiUrl, share) } : null),
    [app, share],
  );

  const open = (password?: string) => {
    if (!share) return;
    share.open(password).then(
      (opened) => setState({ step: "open", opened }),
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 401) {
          setState({ step: "password", error: password === undefined ? null : errorMessage(error), busy: false });
        } else if (error instanceof ApiError && error.status === 429) {
          setState({ step: "password", error: errorMessage(error), busy: false });
        } else {
          setState({ step: "failed", message: errorMessage(error) });
        }
      },
    );
  };

  useEffect(() => {
    if (share) open();
  }, [share]);

  if (!token || !share || !services) {
    return (
      <main className="mx-auto max-w-lg p-6">
        <ErrorState title="Not a share link" message="This address holds no share link. Ask its owner for the whole link." />
      </main>
    );
  }
  if (state.step === "opening") return <Loading label="Opening the shared dashboard" />;
  if (state.step === "failed") {
    return (
      <main className="mx-auto max-w-lg p-6">
        <ErrorState title="This shared dashboard cannot be opened" message={state.message} />
      </main>
    );
  }
  if (state.step === "password") {
    return (
      <SharePasswordPrompt
        error={state.error}
        busy={state.busy}
        onSubmit={(password) => {
          setState({ step: "password", error: null, busy: true });
          open(password);
        }}
      />
    );
  }
  return (
    <ServicesContext.Provider value={services}>
      <QueryClientProvider client={queryClient}>
        <SharedDashboard opened={state.opened} share={share} />
      </QueryClientProvider>
    </ServicesContext.Provider>
  );
}
