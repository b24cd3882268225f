//! The HTTP programs of a cluster's pods (docs/cluster.md, "Ingress"): containers of
//! traefik/whoami serve `whoami`, and ingress-nginx's controller (image
//! `.../ingress-nginx/controller`) gets one location per path of every Ingress of class
//! `nginx`, whose upstream is the backend Service's endpoints, read as the controller
//! reads them (it watches Endpoints; the Service's cluster IP plays no part).

use super::kube_proxy::Endpoint;
use super::model::{Cluster, Pod, Protocol, Target};
use crate::model::http::{route_line, IngressRoute};

/// The IngressClass ingress-nginx's manifests create (`controller: k8s.io/ingress-nginx`).
pub const INGRESS_NGINX_CLASS: &str = "nginx";

/// Whether a container image is ingress-nginx's controller.
pub fn is_ingress_nginx(image: &str) -> bool {
    image.contains("ingress-nginx/controller")
}

/// Whether a container image is traefik/whoami.
pub fn is_whoami(image: &str) -> bool {
    image
        .rsplit('/')
        .next()
        .is_some_and(|n| n == "whoami" || n.starts_with("whoami:"))
}

/// The controller's locations: every path of every Ingress of its class, with the
/// backend's endpoints (`eps[service][port]`, as kube-proxy's endpoints are computed).
pub fn routes(c: &Cluster, eps: &[Vec<Vec<Endpoint>>]) -> Vec<IngressRoute> {
    let mut out = Vec::new();
    for ing in &c.ingresses {
        if ing.class.as_deref() != Some(INGRESS_NGINX_CLASS) {
            continue;
        }
        for p in &ing.paths {
            let svc = c
                .services
                .iter()
                .position(|s| s.namespace == ing.namespace && s.name == p.service);
            let port_idx = svc.and_then(|si| {
                c.services[si].ports.iter().position(|sp| match &p.port {
                    Target::Number(n) => sp.port == *n && sp.proto == Protocol::Tcp,
                    Target::Name(n) => sp.name.as_deref() == Some(n.as_str()),
                })
            });
            let endpoints = match (svc, port_idx) {
                (Some(si), Some(pi)) => eps[si][pi].iter().map(|e| (e.ip, e.port)).collect(),
                _ => Vec::new(),
            };
            let port_text = match &p.port {
                Target::Number(n) => n.to_string(),
                Target::Name(n) => n.clone(),
            };
            out.push(IngressRoute {
                host: p.host.clone(),
                path: p.path.clone(),
                path_type: p.path_type,
                upstream: format!("{}-{}-{port_text}", ing.namespace, p.service),
                endpoints,
            });
        }
    }
    out
}

/// A pod's `http:` lines: whoami on its containers' TCP ports, the controller's
/// locations on its `http` port (else 80).
pub fn pod_http(c: &Cluster, eps: &[Vec<Vec<Endpoint>>], p: &Pod) -> Vec<String> {
    let mut out = Vec::new();
    for ct in &p.containers {
        let image = ct.image.as_deref().unwrap_or("");
        let tcp = ct.ports.iter().filter(|cp| cp.proto == Protocol::Tcp);
        if is_whoami(image) {
            for cp in tcp {
                out.push(format!("whoami {} {}", cp.port, p.name));
            }
        } else if is_ingress_nginx(image) {
            let ports: Vec<_> = tcp.collect();
            let port = ports
                .iter()
                .find(|cp| cp.name.as_deref() == Some("http"))
                .or_else(|| ports.iter().find(|cp| cp.port == 80));
            if let Some(cp) = port {
                out.extend(routes(c, eps).iter().map(|r| route_line(cp.port, r)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images() {
        assert!(is_ingress_nginx(
            "registry.k8s.io/ingress-nginx/controller:v1.9.4"
        ));
        assert!(!is_ingress_nginx("nginx"));
        assert!(is_whoami("traefik/whoami"));
        assert!(is_whoami("traefik/whoami:v1.10"));
        assert!(!is_whoami("nginx"));
        assert!(!is_whoami("whoami-proxy"));
    }
}
