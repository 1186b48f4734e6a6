import { SharePage } from "@/components/share/SharePage";

export const metadata = { title: "Shared dashboard · Pulse", referrer: "no-referrer" };

// A share link is /share/#shr_…: the token rides in the fragment, which the browser never sends
// to a server (nor in a Referer), and the same static page serves every link.
export default function Page() {
  return <SharePage />;
}
