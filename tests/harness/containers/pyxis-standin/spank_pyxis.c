/* Stand-in for NVIDIA Pyxis, for tests only: a real SPANK plugin with Pyxis's option name that runs
 * no container. With --container-image=X, each task gets PYXIS_STANDIN_IMAGE=X in its environment. */
#include <string.h>
#include <slurm/spank.h>

SPANK_PLUGIN(pyxis, 1);

static char image[256];

static int set_image(int val, const char *optarg, int remote)
{
    (void) val; (void) remote;
    if (optarg == NULL || strlen(optarg) >= sizeof(image))
        return -1;
    strcpy(image, optarg);
    return 0;
}

struct spank_option spank_options[] = {
    {"container-image", "[image]", "[pyxis stand-in, tests only] sets PYXIS_STANDIN_IMAGE; runs no container",
     1, 0, set_image},
    SPANK_OPTIONS_TABLE_END
};

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
    (void) ac; (void) av;
    if (image[0] != '\0')
        spank_setenv(sp, "PYXIS_STANDIN_IMAGE", image, 1);
    return 0;
}
