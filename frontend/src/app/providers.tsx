"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { type ReactNode, useEffect, useState } from "react";

import { ErrorState, Loading } from "@/components/ui/states";
import { loadConfig } from "@/lib/config";
import { ApiError } from "@/lib/errors";
import { createServices, type Services, ServicesContext } from "@/lib/services";

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
      },
    },
  });
}

export function Providers({ children }: { children: ReactNode }) {
  const [services, setServices] = useState<Services | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [queryClient] = useState(makeQueryClient);

  useEffect(() => {
    let cancelled = false;
    loadConfig()
      .then((config) => {
        if (cancelled) return;
        const created = createServices(config);
        setServices(created);
        void created.session.restore();
      })
      .catch((error: Error) => !cancelled && setFailure(error.message));
    return () => {
      cancelled = true;
    };
  }, []);

  if (failure) {
    return (
      <main className="mx-auto max-w-lg p-6">
        <ErrorState title="The dashboard could not start" message={failure} />
      </main>
    );
  }
  if (!services) return <Loading label="Starting" />;
  return (
    <ServicesContext.Provider value={services}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </ServicesContext.Provider>
  );
}
