/*
 * k8s: Kubernetes manifests for the stack's service definitions. Pure:
 * definitions in, JSON text out; writing the files is cmd-export's job.
 */
#ifndef PANCAKE_K8S_H
#define PANCAKE_K8S_H

#include "core/service.h"
#include "util/buf.h"

/*
 * What a service becomes: a member with volumes keeps its data, so it is a
 * StatefulSet (a volumeClaimTemplate per volume) behind a headless Service;
 * one without is a Deployment behind a ClusterIP Service.
 */
enum k8s_workload { K8S_DEPLOYMENT = 0, K8S_STATEFULSET = 1 };
enum k8s_workload k8s_workload_of(const struct service *s);
/* "Deployment" or "StatefulSet"; borrowed, static */
const char *k8s_kind_name(enum k8s_workload w);

/*
 * The Kubernetes probe nearest to a service's own readiness check, and
 * whether it is weaker than pancake's (a protocol Kubernetes cannot speak,
 * so only the port is checked). `path` is "" for tcpSocket. `note` says
 * what was mapped to what, for the manifest's annotation. All borrowed.
 */
struct k8s_probe {
	const char *kind;       /* "tcpSocket" or "httpGet"; NULL: no probe */
	int port;
	char path[160];
	int weaker;
	char note[200];
};
void k8s_probe_of(const struct service *s, struct k8s_probe *p);

/* the size Kubernetes is given for each volume (definitions name none) */
#define K8S_VOLUME_SIZE "10Gi"

/*
 * The manifest for one service: a v1 List holding its workload and its
 * Service, labelled with `project` (app.kubernetes.io/part-of and
 * io.pancake.project), memory from the `profile`'s limit as both request
 * and limit. New JSON text (free with free()), or NULL with `err` set
 * ("service 'x': ...") when a name is not a Kubernetes name.
 */
char *k8s_manifest(const struct service *s, const char *project,
		   enum heap_profile profile, struct buf *err);

/* the file a service's manifest goes in: "NAME.json"; new (free with free()) */
char *k8s_file_name(const struct service *s);

/*
 * README.md for the folder: what each file holds and how to apply them.
 * New text (free with free()).
 */
char *k8s_readme(const struct service *svcs, int n, const char *project,
		 enum heap_profile profile);

/* 1 if `name` is a DNS-1123 label (lowercase, digits, '-', at most 63) */
int k8s_valid_name(const char *name);

#endif
