; Included into electron-builder's NSIS script (nsis.include in electron-builder.yml).

!macro customUnInstall
  ; An update runs the old uninstaller too: keep the user's "Start at login" choice then.
  ${ifNot} ${isUpdated}
    ; The login item app.setLoginItemSettings wrote for the user running the uninstaller; its value
    ; name is the AppUserModelId (= appId). Other users' entries point at a removed exe and are skipped.
    DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Run" "com.smtprelaytray.app"
    DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run" "com.smtprelaytray.app"
  ${endIf}
!macroend
