"""S3 REST-XML: buckets, objects, multipart, policies."""
