import { AuthForm } from "@/components/auth/AuthForm";

export const metadata = { title: "Register · Pulse" };

export default function RegisterPage() {
  return <AuthForm mode="register" />;
}
