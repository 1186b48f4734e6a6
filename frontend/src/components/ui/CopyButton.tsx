"use client";

import { useState } from "react";

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("yes");
    } catch {
      setCopied("no");
    }
    setTimeout(() => setCopied(null), 2_000);
  }
  return (
    <span className="inline-flex items-center gap-2">
      <button type="button" className="btn-secondary" onClick={() => void copy()}>
        {label}
      </button>
      <span aria-live="polite" className="text-xs text-gray-600">
        {copied === "yes" ? "Copied" : copied === "no" ? "Copy failed: select the text instead" : ""}
      </span>
    </span>
  );
}
