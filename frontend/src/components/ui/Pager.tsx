"use client";

import { useCallback, useState } from "react";

/** Cursor pagination state: the cursors of the pages seen, so Previous works too. */
export function useCursorPager(resetKey: string) {
  const [state, setState] = useState<{ key: string; stack: (string | null)[] }>({ key: resetKey, stack: [null] });
  const stack = state.key === resetKey ? state.stack : [null];
  const next = useCallback(
    (cursor: string) => setState({ key: resetKey, stack: [...stack, cursor] }),
    [resetKey, stack],
  );
  const previous = useCallback(() => setState({ key: resetKey, stack: stack.slice(0, -1) }), [resetKey, stack]);
  return { cursor: stack[stack.length - 1], page: stack.length, next, previous };
}

export function Pager({
  label,
  page,
  nextCursor,
  onNext,
  onPrevious,
  busy,
}: {
  label: string;
  page: number;
  nextCursor: string | null | undefined;
  onNext: (cursor: string) => void;
  onPrevious: () => void;
  busy?: boolean;
}) {
  return (
    <nav aria-label={`${label} pages`} className="mt-2 flex items-center justify-end gap-2 text-sm">
      <span className="text-gray-600">Page {page}</span>
      <button type="button" className="btn-secondary" disabled={page <= 1 || busy} onClick={onPrevious}>
        Previous
      </button>
      <button type="button" className="btn-secondary" disabled={!nextCursor || busy} onClick={() => nextCursor && onNext(nextCursor)}>
        Next
      </button>
    </nav>
  );
}
