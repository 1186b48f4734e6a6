// CloudFront Function (viewer request, cloudfront-js-2.0) on the /api/* behaviour.
// API Gateway sees CloudFront's edge as the caller, so the visitor's own address travels in
// true-client-ip, set here from event.viewer.ip and replacing anything the viewer sent under that
// name. The functions believe it only beside the stack's edge secret, which CloudFront adds as an
// origin custom header (functions/pulse/edge.py).
function handler(event) {
  var request = event.request;
  request.headers["true-client-ip"] = { value: event.viewer.ip };
  return request;
}
