# homelab-backup hub: a NixOS module, rendered from the homelab-backup Pulumi program's hub.nix
# (its placeholders are filled with Nix literals by nixos.ts, beside it).
#
# Import it from your configuration (copy it next to configuration.nix):
#     imports = [ ./homelab-backup-hub.nix ];
# then run `nixos-rebuild switch`. Run it again whenever the render of this file changes (server
# release, ports, monitoring, off-site schedule, arrivals check). `pulumi up` never edits this file or anything in
# /etc/nixos, /etc/systemd or /usr/local: over SSH it writes only inside the module's own directory
# (stateDir below): the server's credentials (an EnvironmentFile, root-only 0600, outside the Nix
# store), the off-site copy's rclone config (0600), the arrivals check's settings and notify
# credentials (an EnvironmentFile, 0600) and its staging files, and it configures the
# bucket, users and policies through the server's API.
{ lib, pkgs, ... }:

let
  # Settings of this stack, filled in by the render.
  stateDir = @STATE_DIR@;
  server = @SERVER@; # "silo" | "rustfs"
  dataDir = @DATA_DIR@;
  port = @PORT@;
  consolePort = @CONSOLE_PORT@;
  region = @REGION@;
  tls = @TLS@;
  monitoring = @MONITORING@;
  textfileDir = @TEXTFILE_DIR@;
  sshUser = @SSH_USER@;
  # Every download: a GitHub release asset pinned to a version and its published sha256
  # (components/hub/releases.ts). fetchurl refuses any content with another hash.
  releases = @RELEASES@;
  # The off-site copy (null when it does not run on the hub).
  offsite = @OFFSITE@;
  # The hub's own arrivals check (null when alerts.notify names no channel).
  arrivals = @ARRIVALS@;

  envFile = "${stateDir}/server.env";
  system = pkgs.stdenv.hostPlatform.system;
  arch =
    if system == "aarch64-linux" then "arm64"
    else if system == "x86_64-linux" then "amd64"
    else throw "homelab-backup hub: no ${server} build for ${system} (arm64 or amd64 only)";

  # A static binary from a release archive, installed as bin/<binary> (plus aliases).
  fromRelease = name: aliases:
    let r = releases.${name}; asset = r.assets.${arch}; in
    pkgs.stdenvNoCC.mkDerivation {
      pname = "homelab-backup-${name}";
      version = r.version;
      src = pkgs.fetchurl { url = asset.url; sha256 = asset.sha256; };
      nativeBuildInputs = [ pkgs.unzip ];
      dontUnpack = true;
      dontConfigure = true;
      dontBuild = true;
      installPhase = ''
        mkdir -p unpacked $out/bin
        case "$src" in
          *.zip) unzip -q "$src" -d unpacked ;;
          *) tar -xzf "$src" -C unpacked ;;
        esac
        install -m 0755 "$(find unpacked -type f -name ${r.binary} | head -n 1)" $out/bin/${r.binary}
        for a in ${lib.concatStringsSep " " aliases}; do ln -s ${r.binary} $out/bin/$a; done
      '';
      meta.mainProgram = r.binary;
    };

  # services.minio starts `${package}/bin/minio`: Silo ships `silo`, so the alias.
  silo = fromRelease "silo" [ "minio" ];
  rustfs = fromRelease "rustfs" [ ];

  # A timer for a hub job: a run missed while the hub was off starts at the next boot (Persistent).
  jobTimer = onCalendar: {
    wantedBy = [ "timers.target" ];
    timerConfig = {
      OnCalendar = onCalendar;
      Persistent = true;
      AccuracySec = "1min";
    };
  };
in
{
  config = lib.mkMerge [
    {
      # No S3 client: `pulumi up` configures the bucket, users and policies through the server's own APIs.
      environment.systemPackages = lib.optional (offsite != null) pkgs.rclone;
      # The module's own directory: root-only; the SSH user stages files in staging/.
      systemd.tmpfiles.rules = [
        "d ${stateDir} 0711 root root - -"
        "d ${stateDir}/staging 0700 ${sshUser} - - -"
        "d ${stateDir}/offsite 0700 root root - -"
      ];
      networking.firewall.allowedTCPPorts = [ port ];
    }

    (lib.optionalAttrs (server == "silo") {
      services.minio = {
        enable = true;
        package = silo;
        listenAddress = ":${toString port}";
        consoleAddress = ":${toString consolePort}";
        dataDir = [ dataDir ];
        # A string, not a path literal: the credentials never enter the world-readable Nix store.
        rootCredentialsFile = envFile;
        inherit region;
      };
      # TLS: public.crt and private.key in /var/lib/minio/config/certs (the module's configDir).
      # Metrics without a bearer token, so the cluster's Prometheus can scrape them (they hold no data).
      systemd.services.minio.environment = lib.optionalAttrs monitoring { MINIO_PROMETHEUS_AUTH_TYPE = "public"; };
      # Never start on an empty mount point: a data disk that failed to mount stops the server.
      systemd.services.minio.unitConfig.RequiresMountsFor = [ dataDir ];
    })

    (lib.optionalAttrs (server == "rustfs") {
      services.rustfs = {
        enable = true;
        package = rustfs;
        environmentFile = envFile;
        settings = {
          RUSTFS_VOLUMES = dataDir;
          RUSTFS_ADDRESS = ":${toString port}";
          RUSTFS_CONSOLE_ENABLE = "true";
          RUSTFS_CONSOLE_ADDRESS = ":${toString consolePort}";
        } // lib.optionalAttrs tls { RUSTFS_TLS_PATH = "/etc/rustfs/tls"; };
      };
      systemd.services.rustfs.unitConfig.RequiresMountsFor = [ dataDir ];
      # services.rustfs does not restart on a changed credentials file; this path unit does.
      systemd.paths.homelab-backup-rustfs-credentials = {
        wantedBy = [ "multi-user.target" ];
        pathConfig = { PathChanged = [ envFile ]; Unit = "homelab-backup-rustfs-restart.service"; };
      };
      systemd.services.homelab-backup-rustfs-restart = {
        serviceConfig.Type = "oneshot";
        script = "systemctl restart rustfs.service";
      };
    })

    (lib.optionalAttrs monitoring {
      services.prometheus.exporters.node = {
        enable = true;
        port = 9100;
        openFirewall = true;
        enabledCollectors = [ "textfile" ];
        extraFlags = [ "--collector.textfile.directory=${textfileDir}" ];
      };
      systemd.tmpfiles.rules = [ "d ${textfileDir} 0755 root root - -" ];
    })

    (lib.optionalAttrs (offsite != null) {
      # The same script as on a Debian hub (components/offsite/offsite-sync.sh), verbatim.
      systemd.services.homelab-backup-offsite = {
        description = "homelab-backup: encrypted off-site copy of the hub bucket to FTP(S)";
        wants = [ "network-online.target" ];
        after = [ "network-online.target" ];
        path = [ pkgs.rclone pkgs.coreutils pkgs.gnugrep pkgs.gnused pkgs.gawk ];
        environment = offsite.environment // { RCLONE = "${pkgs.rclone}/bin/rclone"; };
        serviceConfig = {
          Type = "oneshot";
          User = "root";
          ExecStart = "${pkgs.bash}/bin/sh ${pkgs.writeText "offsite-sync.sh" offsite.script}";
          # The first copy of a full bucket over FTP can take days.
          TimeoutStartSec = "infinity";
          Nice = 10;
          IOSchedulingClass = "idle";
          NoNewPrivileges = true;
          PrivateTmp = true;
          ProtectSystem = "strict";
          ProtectHome = true;
          ReadWritePaths = [ "-${textfileDir}" ];
        };
      };
      systemd.timers.homelab-backup-offsite = jobTimer offsite.onCalendar;
    })

    (lib.optionalAttrs (arrivals != null) {
      # The same script as on a Debian hub (components/alerts/hub-arrivals.sh), verbatim: every 15
      # minutes, report through the notify channels when no new object arrived in the bucket. Its
      # settings and credentials are in arrivals.envFile, written by `pulumi up` (root-only 0600).
      systemd.services.homelab-backup-arrivals = {
        description = "homelab-backup: report when no new backup arrives at the hub (dead-man's switch)";
        wants = [ "network-online.target" ];
        after = [ "network-online.target" ];
        path = [ pkgs.curl pkgs.coreutils pkgs.findutils pkgs.gnused ];
        serviceConfig = {
          Type = "oneshot";
          User = "root";
          EnvironmentFile = arrivals.envFile;
          ExecStart = "${pkgs.bash}/bin/sh ${pkgs.writeText "hub-arrivals.sh" arrivals.script}";
          TimeoutStartSec = "5min";
          NoNewPrivileges = true;
          PrivateTmp = true;
          ProtectSystem = "strict";
          ProtectHome = "read-only";
          ProtectKernelTunables = true;
          ProtectKernelModules = true;
          ProtectControlGroups = true;
          RestrictSUIDSGID = true;
          # The state file (arrivals.state) goes in the module's directory, which keeps its mode.
          StateDirectory = "homelab-backup";
          StateDirectoryMode = "0711";
          ReadOnlyPaths = [ arrivals.dir ];
        };
      };
      systemd.timers.homelab-backup-arrivals = jobTimer arrivals.onCalendar;
    })
  ];
}
