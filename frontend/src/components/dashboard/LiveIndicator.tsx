import type { LiveStatus } from "@/lib/ws";

const LABEL: Record<LiveStatus, string> = { connecting: "Connecting", live: "Live", reconnecting: "Reconnecting", closed: "Offline" };

export function LiveIndicator({ status }: { status: LiveStatus }) {
  const dot = status === "live" ? "bg-emerald-600" : status === "closed" ? "bg-gray-500" : "bg-amber-500 animate-pulse";
  return (
    <span role="status" data-testid="live-status" data-status={status} className="inline-flex items-center gap-1.5 text-sm text-gray-800">
      <span aria-hidden="true" className={`h-2.5 w-2.5 rounded-full ${dot}`} />
      {LABEL[status]}
    </span>
  );
}
