// CloudFront Function (viewer request, cloudfront-js-2.0) on the dashboard's default behaviour.
// The static export (next.config: trailingSlash) writes each route as <route>/index.html; S3
// has no notion of an index document behind origin access control, so a route is rewritten to
// its index.html here: "/" and "/projects/view/" → ".../index.html", "/projects/view" (no dot in
// the last segment) → "/projects/view/index.html". Paths to files ("/favicon.ico") pass as is.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith("/")) {
    request.uri = uri + "index.html";
  } else if (uri.split("/").pop().indexOf(".") === -1) {
    request.uri = uri + "/index.html";
  }
  return request;
}
