import { describe, expect, test, vi } from "vitest";

import { ApiError } from "./errors";
import { ShareSession, tokenFromHash } from "./share";

const TOKEN = "shr_" + "a".repeat(43);

function reply(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

const opened = (n: number) => ({ access_token: `share-${n}`, token_type: "bearer", expires_in: 3600, project_id: "p", project_name: "Shop", allow_raw: false });

describe("share links", () => {
  test("the token comes from the fragment only when it looks like one", () => {
    expect(tokenFromHash(`#${TOKEN}`)).toBe(TOKEN);
    expect(tokenFromHash("")).toBeNull();
    expect(tokenFromHash("#proj_abc")).toBeNull();
    expect(tokenFromHash("#shr_short")).toBeNull();
  });

  test("opening sends the token and password; the share token is reused until near expiry", async () => {
    let now = 0;
    let n = 0;
    const fetchImpl = vi.fn(async () => reply(200, opened(++n)));
    const session = new ShareSession("http://api/", TOKEN, null, fetchImpl as unknown as typeof fetch, () => now);
    expect((await session.open("pw-12345678")).project_name).toBe("Shop");
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://api/api/v1/share/session");
    expect(JSON.parse(String(init.body))).toEqual({ token: TOKEN, password: "pw-12345678" });
    expect(await session.accessToken()).toBe("share-1");
    now = 3_550_000; // within a minute of expiry: opened again, with the same password
    expect(await session.accessToken()).toBe("share-2");
    expect(JSON.parse(String((fetchImpl.mock.calls[1] as unknown as [string, RequestInit])[1].body)).password).toBe("pw-12345678");
  });

  test("a refused password or a revoked link is the API's error", async () => {
    const fetchImpl = vi
      .fn()
      .mockResolvedValueOnce(reply(401, { error: { code: "unauthorized", message: "wrong password for this share link", details: [] } }))
      .mockResolvedValueOnce(reply(404, { error: { code: "not_found", message: "this share link does not exist or was revoked", details: [] } }));
    const session = new ShareSession("http://api", TOKEN, null, fetchImpl as unknown as typeof fetch);
    await expect(session.open("nope-nope-1")).rejects.toMatchObject({ status: 401, message: "wrong password for this share link" });
    const second = session.open();
    await expect(second).rejects.toBeInstanceOf(ApiError);
    await expect(second).rejects.toMatchObject({ status: 404 });
  });
});
