import { RequireAuth } from "@/components/auth/RequireAuth";
import { ProjectsPage } from "@/components/projects/ProjectsPage";

export const metadata = { title: "Projects · Pulse" };

export default function Projects() {
  return (
    <RequireAuth>
      <ProjectsPage />
    </RequireAuth>
  );
}
