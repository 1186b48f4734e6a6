"use client";

// The app's services (runtime config, login session, API client), created once at start and
// handed down by context; hooks read them, components never do.

import { createContext, useContext, useSyncExternalStore } from "react";

import { type Api, createApi } from "./api";
import { AuthSession, type AuthState } from "./auth";
import type { RuntimeConfig } from "./config";

export interface Services {
  config: RuntimeConfig;
  session: AuthSession;
  api: Api;
}

export function createServices(config: RuntimeConfig): Services {
  const session = new AuthSession({ apiUrl: config.apiUrl });
  return { config, session, api: createApi(config.apiUrl, session) };
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("useServices outside <Providers>");
  return services;
}

export function useAuthState(): AuthState {
  const { session } = useServices();
  return useSyncExternalStore(
    (listener) => session.subscribe(listener),
    () => session.state,
    () => "unknown" as const,
  );
}
