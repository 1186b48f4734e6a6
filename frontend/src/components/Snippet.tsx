"use client";

import { CopyButton } from "@/components/ui/CopyButton";
import { useServices } from "@/lib/services";

export function snippetFor(sdkUrl: string, apiKey: string, ingestUrl?: string): string {
  const api = ingestUrl ? ` data-api="${ingestUrl}"` : "";
  return `<script src="${sdkUrl}" data-project="${apiKey}"${api} defer></script>`;
}

/** The ready-to-paste tracking snippet with this deployment's SDK URL (and ingest URL). */
export function Snippet({ apiKey }: { apiKey: string }) {
  const { config } = useServices();
  const code = snippetFor(config.sdkUrl, apiKey, config.ingestUrl);
  return (
    <div className="space-y-2">
      <pre className="focus-ring overflow-x-auto rounded-md bg-gray-900 p-3 text-xs text-gray-100" aria-label="Tracking snippet" tabIndex={0}>
        <code>{code}</code>
      </pre>
      <CopyButton text={code} label="Copy snippet" />
    </div>
  );
}
