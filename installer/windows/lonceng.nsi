; Lonceng's Windows installer, built on Linux with Debian's makensis by `scripts/windows.sh
; installer` (Tauri's own NSIS bundling downloads a helper DLL, which this project does not depend
; on). Per user by default, with no administrator rights: everything goes to the agent's profile.
; For IT (run elevated, e.g. by a deployment tool):
;
;   Lonceng-setup.exe /S /ALLUSERS /SERVER=https://lonceng.example.co.id
;
; /ALLUSERS installs for every account of the PC (Program Files, HKLM); /SERVER= writes IT's policy
; (ORG-3: Software\Policies\Lonceng, server_url) so that Lonceng starts pointed at the
; organisation's server, locked in Settings. The uninstaller removes what the installer wrote.
;
;   makensis -DVERSION=0.1.0 -DAPPDIR=<folder with lonceng.exe, WebView2Loader.dll>
;            -DICON=icons/icon.ico -DOUTFILE=<setup.exe> installer/windows/lonceng.nsi
;
; What it does, and what the uninstaller undoes (tested under Wine by scripts/windows.sh), with
; HKCU and the user's folders for a per-user install, HKLM and the machine's for /ALLUSERS:
; - lonceng.exe and WebView2Loader.dll in %LOCALAPPDATA%\Programs\Lonceng (or Program Files);
; - a Start-menu shortcut carrying the app's AUMID: Windows shows toasts under the app's name and
;   routes their clicks back only for an app that has one;
; - the AUMID's display name and icon (…\Software\Classes\AppUserModelId\…);
; - an entry in "Apps & features";
; - a check that the WebView2 runtime is there (the bell window needs it; the tray and toasts do
;   not), with a clear message when it is not; the result is kept in …\Software\Lonceng;
; - with /SERVER=, IT's policy value (and only that one is removed again).
; The uninstaller also removes the start-at-login entry (the Run key) that the app may have set.
; The agent's data (%APPDATA%\id.lonceng.desktop) is kept.

Unicode true
Target amd64-unicode
ManifestDPIAware true

!include FileFunc.nsh
!include LogicLib.nsh
!include Win\COM.nsh
!include Win\Propkey.nsh

!ifndef VERSION | APPDIR | ICON | OUTFILE
  !error "define VERSION, APPDIR, ICON and OUTFILE (see the top of this file)"
!endif

; The same id as in crates/desktop/src/platform/windows/mod.rs (AUMID) and tauri.conf.json.
!define AUMID "id.lonceng.desktop"
!define APP_KEY "Software\Lonceng"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Lonceng"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
; tauri-plugin-autostart names the Run value after the product.
!define RUN_VALUE "Lonceng"
!define WEBVIEW2 "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define SHORTCUT "$SMPROGRAMS\Lonceng.lnk"
; IT's policy (crates/desktop/src/platform/windows/mod.rs, POLICY_KEY).
!define POLICY_KEY "Software\Policies\Lonceng"

; /SERVER=: the organisation's server for the policy ("" when not given).
Var Server

Name "Lonceng"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\Lonceng"
InstallDirRegKey HKCU "${APP_KEY}" "InstallDir"
SetCompressor /SOLID lzma
Icon "${ICON}"
UninstallIcon "${ICON}"
ShowInstDetails show
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "Lonceng"
VIAddVersionKey "FileDescription" "Lonceng installer"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "MIT License"

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

; Makes the shortcut with IShellLink and sets PKEY_AppUserModel_ID through its IPropertyStore,
; as COM.nsh shows; $0 ends as 0 when every call succeeded.
!macro ShortcutWithAppId LNK TARGET APPID
  StrCpy $0 1
  !insertmacro ComHlpr_CreateInProcInstance ${CLSID_ShellLink} ${IID_IShellLink} r1 ""
  ${If} $1 P<> 0
    ${IShellLink::SetPath} $1 '("${TARGET}").r2'
    ${IShellLink::SetDescription} $1 '("Lonceng: Qontak notifications").r3'
    ${IUnknown::QueryInterface} $1 '("${IID_IPropertyStore}",.r4)'
    ${If} $4 P<> 0
      System::Call '*(&w64 "${APPID}")p.r5'
      System::Call '*${SYSSTRUCT_PROPERTYKEY}(${PKEY_AppUserModel_ID})p.r6'
      System::Call '*${SYSSTRUCT_PROPVARIANT}(${VT_LPWSTR},,p r5)p.r7'
      ${IPropertyStore::SetValue} $4 '($6,$7).r8'
      ${IPropertyStore::Commit} $4 ".r9"
      ${IUnknown::Release} $4 ""
      System::Free $5
      System::Free $6
      System::Free $7
      ${IUnknown::QueryInterface} $1 '("${IID_IPersistFile}",.r4)'
      ${If} $4 P<> 0
        ${IPersistFile::Save} $4 '("${LNK}",1).r3'
        ${IUnknown::Release} $4 ""
        ${If} $2 = 0
        ${AndIf} $3 = 0
        ${AndIf} $8 = 0
          StrCpy $0 0
        ${EndIf}
      ${EndIf}
    ${EndIf}
    ${IUnknown::Release} $1 ""
  ${EndIf}
!macroend

Function CheckWebView2
  ; Where the Evergreen runtime records its version, machine-wide or for this user.
  ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2}" "pv"
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    ReadRegStr $0 HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2}" "pv"
  ${EndIf}
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    WriteRegStr SHCTX "${APP_KEY}" "WebView2" "missing"
    DetailPrint "The Microsoft Edge WebView2 Runtime is not installed."
    MessageBox MB_ICONEXCLAMATION|MB_OK "Lonceng is installed, but this PC does not have the Microsoft Edge WebView2 Runtime, which Lonceng needs to show its bell window (toasts and the tray icon work without it).$\r$\n$\r$\nInstall the Evergreen runtime from https://developer.microsoft.com/microsoft-edge/webview2/ (or ask your IT team), then open Lonceng again." /SD IDOK
  ${Else}
    WriteRegStr SHCTX "${APP_KEY}" "WebView2" "$0"
    DetailPrint "WebView2 Runtime $0 found."
  ${EndIf}
FunctionEnd

; $Server from "/SERVER=<address>" on the command line ("" without one). GetOptions cannot read it:
; it splits options at their first character, and an address is full of slashes.
Function ServerOption
  StrCpy $Server ""
  ${GetParameters} $R0
  StrLen $R1 $R0
  StrCpy $R2 0
  ${Do}
    ${IfThen} $R2 >= $R1 ${|} ${Break} ${|}
    StrCpy $R3 $R0 8 $R2
    ${If} $R3 == "/SERVER="
      IntOp $R2 $R2 + 8
      ; The address ends at the next space (or quote, when it was given quoted).
      ${Do}
        ${IfThen} $R2 >= $R1 ${|} ${Break} ${|}
        StrCpy $R3 $R0 1 $R2
        ${If} $R3 == '"'
          IntOp $R2 $R2 + 1
          ${Continue}
        ${EndIf}
        ${IfThen} $R3 == " " ${|} ${Break} ${|}
        StrCpy $Server "$Server$R3"
        IntOp $R2 $R2 + 1
      ${Loop}
      ${Break}
    ${EndIf}
    IntOp $R2 $R2 + 1
  ${Loop}
FunctionEnd

; /ALLUSERS: the machine's folders and keys. /SERVER=: an http(s) address, or the install stops
; (a wrong policy would point every agent at nothing).
Function .onInit
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/ALLUSERS" $R1
  ${IfNot} ${Errors}
    SetShellVarContext all
    StrCpy $INSTDIR "$PROGRAMFILES64\Lonceng"
  ${EndIf}
  Call ServerOption
  ${If} $Server != ""
    StrCpy $R2 $Server 8
    StrCpy $R3 $Server 7
    ${If} $R2 != "https://"
    ${AndIf} $R3 != "http://"
      MessageBox MB_ICONSTOP|MB_OK "/SERVER= needs the server's http(s) address, e.g. /SERVER=https://lonceng.example.co.id" /SD IDOK
      SetErrorLevel 2
      Quit
    ${EndIf}
  ${EndIf}
FunctionEnd

; The uninstaller removes a machine-wide install from the machine's folders and keys.
Function un.onInit
  ReadRegStr $R0 HKLM "${UNINST_KEY}" "InstallLocation"
  ${If} $R0 == $INSTDIR
    SetShellVarContext all
  ${EndIf}
FunctionEnd

; An agent who installed it by hand sees it start in the tray; a silent install (IT, CI) does not.
Function .onInstSuccess
  ${IfNot} ${Silent}
    Exec '"$INSTDIR\lonceng.exe"'
  ${EndIf}
FunctionEnd

Section "Lonceng"
  ; A running Lonceng holds its files: end it first (it starts again from the shortcut).
  nsExec::Exec '"$SYSDIR\taskkill.exe" /F /IM lonceng.exe'
  SetOutPath "$INSTDIR"
  File "${APPDIR}\lonceng.exe"
  File "${APPDIR}\WebView2Loader.dll"
  File /oname=lonceng.ico "${ICON}"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  !insertmacro ShortcutWithAppId "${SHORTCUT}" "$INSTDIR\lonceng.exe" "${AUMID}"
  ; Kept for support (and the Wine test, where shell links take the property but do not save it).
  ${If} $0 = 0
    WriteRegStr SHCTX "${APP_KEY}" "ShortcutAppId" "${AUMID}"
  ${Else}
    WriteRegStr SHCTX "${APP_KEY}" "ShortcutAppId" "failed"
    DetailPrint "The Start-menu shortcut could not carry the app id: toasts may show another name."
  ${EndIf}
  WriteRegStr SHCTX "Software\Classes\AppUserModelId\${AUMID}" "DisplayName" "Lonceng"
  WriteRegStr SHCTX "Software\Classes\AppUserModelId\${AUMID}" "IconUri" "$INSTDIR\lonceng.ico"

  ; ORG-1: lonceng://sign-in?server=… links an admin sends open Lonceng, which asks before it signs in.
  WriteRegStr SHCTX "Software\Classes\lonceng" "" "URL:Lonceng sign-in link"
  WriteRegStr SHCTX "Software\Classes\lonceng" "URL Protocol" ""
  WriteRegStr SHCTX "Software\Classes\lonceng\DefaultIcon" "" "$INSTDIR\lonceng.exe,0"
  WriteRegStr SHCTX "Software\Classes\lonceng\shell\open\command" "" '"$INSTDIR\lonceng.exe" "%1"'

  WriteRegStr SHCTX "${APP_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr SHCTX "${APP_KEY}" "Version" "${VERSION}"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayName" "Lonceng"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINST_KEY}" "Publisher" "Lonceng"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\lonceng.exe"
  WriteRegStr SHCTX "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr SHCTX "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoRepair" 1
  ${If} $Server != ""
    WriteRegStr SHCTX "${POLICY_KEY}" "server_url" "$Server"
    WriteRegStr SHCTX "${APP_KEY}" "PolicyServer" "1"
    DetailPrint "Pointed at $Server by IT's policy."
  ${EndIf}

  Call CheckWebView2
SectionEnd

Section "Uninstall"
  nsExec::Exec '"$SYSDIR\taskkill.exe" /F /IM lonceng.exe'
  Delete "$INSTDIR\lonceng.exe"
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\lonceng.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "${SHORTCUT}"
  DeleteRegValue HKCU "${RUN_KEY}" "${RUN_VALUE}"
  ; The policy value the installer wrote (IT may keep others there: the key goes only when empty).
  ReadRegStr $R0 SHCTX "${APP_KEY}" "PolicyServer"
  ${If} $R0 == "1"
    DeleteRegValue SHCTX "${POLICY_KEY}" "server_url"
    DeleteRegKey /ifempty SHCTX "${POLICY_KEY}"
  ${EndIf}
  DeleteRegKey SHCTX "Software\Classes\AppUserModelId\${AUMID}"
  DeleteRegKey SHCTX "Software\Classes\lonceng"
  DeleteRegKey SHCTX "${UNINST_KEY}"
  DeleteRegKey SHCTX "${APP_KEY}"
SectionEnd
