/* config: where pancake's files are (its home, its cache) and its project name. */
#ifndef PANCAKE_CONFIG_H
#define PANCAKE_CONFIG_H

/* all borrowed, valid for the life of the process */
/* the source tree: $PANCAKE_HOME, else the binary's folder, else "." */
const char *config_home(void);
/* $PANCAKE_CACHE, else /var/cache/pancake as root, else ~/.cache/pancake */
const char *config_cache(void);
/* the models' folder: $PANCAKE_MODELS, else <home>/models */
const char *config_models(void);
/* the model registry: <models>/registry */
const char *config_registry(void);
/* $PANCAKE_STATE, else $XDG_STATE_HOME/pancake, else ~/.local/state/pancake */
const char *config_state(void);
/* $PANCAKE_PROJECT, else "pancake"; labels and resource names use it */
const char *config_project(void);
/* creates a directory and its parents; 0 or -1 with errno */
int config_mkdirs(const char *path);

#define LABEL_PROJECT "io.pancake.project"
#define LABEL_SERVICE "io.pancake.service"
#define LABEL_CONFIG_HASH "io.pancake.config-hash"
#define LABEL_PROFILE "io.pancake.profile"
#define LABEL_IMAGE "io.pancake.image"
#define LABEL_CONTENT_HASH "io.pancake.content-hash"
#define LABEL_SWARM_PLACE "io.pancake.swarm.place"   /* "node=ID replicas=N" of a Swarm service */
#define LABEL_CLASS "io.pancake.class"             /* the classroom a stack belongs to */
#define LABEL_CLASS_SEAT "io.pancake.class.seat"   /* its seat in the class, 1.. */

#endif
