# Environment for building Lonceng for Windows (x86_64-pc-windows-gnu) on Debian 12 and running it
# under Wine. Sourced by scripts/windows.sh, not run. Measured recipe: ../shared/tools/wine/README.md.
#
# rustup cannot add targets here, so Debian's rustc-web (1.96) builds std for the target from
# rust-web-src (-Zbuild-std, hence RUSTC_BOOTSTRAP); mingw-w64 links.
export PATH=/usr/bin:$PATH
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=$ROOT/target/windows
# No debug info in Windows test builds: a debug lonceng.exe is 500 MB of it, the target folder
# 15 GB, and a panic still names its file and line. No incremental folders (3 GB) either.
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
export CXX_x86_64_pc_windows_gnu=x86_64-w64-mingw32-g++
export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine
export WINEPREFIX=$ROOT/target/wineprefix
# Wine 8 lacks ProcessPrng (bcryptprimitives.dll), which std imports: every .exe would exit with 53
# before main. The stand-in built from scripts/windows/bcryptprimitives.c forwards it to bcrypt.
export LONCENG_WINE_DLLS=$ROOT/target/windows/wine-dlls
export WINEPATH=$LONCENG_WINE_DLLS
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="   # no Mono/Gecko install prompts
WINDOWS_TARGET=x86_64-pc-windows-gnu
