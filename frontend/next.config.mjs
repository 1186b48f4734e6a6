/** Static export: `next build` writes out/, served by S3 + CloudFront and by the local runtime.
 * There is no server: API and WebSocket URLs come from /config.json at run time. */
const nextConfig = {
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
