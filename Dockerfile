# pancake's native binaries in one image, built with no registry and no
# network: `pancake images build sandbox` makes both bases with debootstrap
# (images/base/packages, images/build/packages) and sends this file with the
# sources (Makefile, sandbox/, services/: only *.c and *.h) as its context.

# stage 1: compile everything on the build root (compilers, -dev libraries)
FROM pancake/build:bookworm AS build
COPY . /src
RUN make -C /src -j2 all

# stage 2: the binaries on the slim runtime base (libraries only)
FROM pancake/base:bookworm
COPY --from=build /src/pancake /src/services/recommender/recommender /src/services/serving/serving /usr/local/bin/
RUN useradd --system --home-dir /var/lib/pancake --create-home pancake
USER pancake
WORKDIR /var/lib/pancake
EXPOSE 8080
# the stack runs `serving`; `docker run pancake/sandbox recommender --help` the others
ENTRYPOINT []
CMD ["serving", "--help"]
