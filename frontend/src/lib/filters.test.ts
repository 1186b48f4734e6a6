import { describe, expect, test } from "vitest";

import { filterFor, filtersFromSearch, MAX_FILTERS, splitFilter, withFilter, withoutFilter } from "./filters";

describe("the dashboard's filters", () => {
  test("come from repeated filter parameters, without duplicates or malformed ones", () => {
    const search = new URLSearchParams("id=p&filter=country:DE&filter=page:/a:b&filter=nonsense&filter=country:DE");
    expect(filtersFromSearch(search)).toEqual(["country:DE", "page:/a:b"]);
    expect(splitFilter("page:/a:b")).toEqual({ field: "page", value: "/a:b" });
  });

  test("a clicked row adds its dimension's filter, or a property's; entry and exit pages add none", () => {
    expect(filterFor({ dimension: "country" }, "DE")).toBe("country:DE");
    expect(filterFor({ property: "plan" }, "pro")).toBe("prop.plan:pro");
    expect(filterFor({ dimension: "entry_page" }, "/")).toBeNull();
  });

  test("adding is idempotent and bounded; removing takes one", () => {
    expect(withFilter(["a:1"], "a:1")).toEqual(["a:1"]);
    expect(withFilter(["a:1"], "b:2")).toEqual(["a:1", "b:2"]);
    const full = Array.from({ length: MAX_FILTERS }, (_, i) => `a:${i}`);
    expect(withFilter(full, "b:2")).toBe(full);
    expect(withoutFilter(["a:1", "b:2"], "a:1")).toEqual(["b:2"]);
  });
});
