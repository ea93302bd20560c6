"""Reusable test helpers: a real registry, an OCI image, isolated skopeo/buildah runs, a pod simulator."""
