# Lonceng — English catalog.
# Notification kinds: the message value is the bell-list text, `.title` is the toast title.
# Every message here must exist in locales/id/lonceng.ftl too (checked by a test).

## General tab

reminder = Reminder: { $object_type ->
        [deal] deal
        [ticket] ticket
       *[task] task
    } { $object_name }
    .title = Reminder
mention = { $actor } mentioned you in { $target ->
        [deal] deal { $object_name }
        [ticket] ticket { $object_name }
        [task_detail] the Detail/Plan of task { $object_name }
       *[task] task { $object_name }
    }
    .title = New mention
deal-owner-assigned = { $actor } made you the owner of deal { $deal_name }
    .title = Deal assigned to you
deal-owner-auto-assigned = You were automatically assigned as owner of deal { $deal_name } (from { $source ->
        [chatbot] the chatbot
       *[inbox] Inbox
    })
    .title = Deal assigned to you
ticket-assigned = { $actor } assigned ticket { $ticket_name } to you
    .title = Ticket assigned to you
task-assigned = { $actor } assigned task { $task_name } to you
    .title = Task assigned to you
task-checklist-item-assigned = { $actor } assigned you the checklist item { $item_name } in task { $task_name }
    .title = Checklist item assigned to you
ticket-status-changed = { $actor } moved ticket { $ticket_name } to { $status }
    .title = Ticket updated
task-status-changed = { $actor } moved task { $task_name } to { $status }
    .title = Task updated
export-ready = Your export of { $count ->
        [one] 1 { $object_type ->
            [deals] deal
            [tickets] ticket
            [tasks] task
            [contacts] contact
            [companies] company
            [products] product
           *[other] record
        }
       *[other] { $count } { $object_type ->
            [deals] deals
            [tickets] tickets
            [tasks] tasks
            [contacts] contacts
            [companies] companies
            [products] products
           *[other] records
        }
    } is ready to download
    .title = Export ready
import-processed = Import of { $object_type ->
        [deals] deals
        [tickets] tickets
        [tasks] tasks
        [contacts] contacts
        [companies] companies
        [products] products
       *[other] records
    } finished: { $success_count ->
        [one] 1 row imported
       *[other] { $success_count } rows imported
    }, { $failure_count ->
        [0] none failed
        [one] 1 failed
       *[other] { $failure_count } failed
    }
    .title = Import processed
automation-result = Automated action { $rule_name } { $outcome ->
        [failed] failed on
       *[succeeded] ran on
    } { $object_name }
    .title = Automated action
crm-notice = { $description }
    .title = Qontak CRM · { $origin }

## Inbox tab

conversation-assigned = { $actor } assigned you the conversation with { $contact_name } on { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    }
    .title = Conversation assigned
conversation-resolved = { $actor } resolved the conversation with { $contact_name } on { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    }
    .title = Conversation resolved
contact-blocked = { $actor } blocked contact { $contact_name }
    .title = Contact blocked
contact-unblocked = { $actor } unblocked contact { $contact_name }
    .title = Contact unblocked

## Approval tab

deal-approval-requested = { $actor } asks you to approve deal { $deal_name } ({ $amount })
    .title = Approval requested
deal-approval-approved = { $actor } approved deal { $deal_name }
    .title = Deal approved
deal-approval-rejected = { $actor } rejected deal { $deal_name }
    .title = Deal rejected
expense-approval-requested = { $actor } asks you to approve expense { $expense_name } ({ $amount })
    .title = Approval requested
expense-approval-approved = { $actor } approved expense { $expense_name }
    .title = Expense approved
expense-approval-rejected = { $actor } rejected expense { $expense_name }
    .title = Expense rejected

## Incoming chat messages (toast only, NC-R4)

chat-message = { $preview }
    .title = { $sender } on { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    }
chat-messages = { $count ->
        [one] 1 new message
       *[other] { $count } new messages
    } from { $sender }: { $preview }
    .title = { $sender } on { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    }
# ORG-5: what a toast says while the screen is locked (or always, as the agent chose).
chat-private = { $count ->
        [one] New message
       *[other] { $count } new messages
    } on { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    }
toast-private = Open Lonceng to see the details.

## Tabs and category chips

tab-general = General
tab-inbox = Inbox
tab-approval = Approval
category-all = All
category-reminder = Reminder
category-mention = Mention
category-assignment = Assignment
category-update = Update
category-download_upload = Download & upload
category-chat_assignment = Assignment
category-resolved = Resolved
category-blocked_contact = Blocked contact
category-deals = Deals
category-expenses = Expenses

## Bell window

app-name = Lonceng
bell-title = Notifications
unread-count = { $count ->
        [0] No unread notifications
        [one] 1 unread notification
       *[other] { $count } unread notifications
    }
show-unread-only = Show unread only
mark-all-read = Mark all as read
mark-all-read-scope = Mark { $count } as read · { $scope }
mark-all-read-done = { $count ->
        [one] 1 notification marked as read
       *[other] { $count } notifications marked as read
    }
undo = Undo
quarantined-count = { $count ->
        [one] 1 notification could not be shown
       *[other] { $count } notifications could not be shown
    }
quarantined-why = Why?
link-refused = The link goes to { $host }, which is not a Qontak address, so it was not opened.
mark-read = Mark as read
mark-unread = Mark as unread
section-today = Today
section-older = Older
empty-tab = Nothing here yet. New notifications appear as they arrive.
empty-unread = You are all caught up.
empty-filter = No notifications in this category.
empty-inbox-crm = Inbox needs the Lonceng server: conversations assigned and resolved reach a desktop only through Qontak's webhooks, which a server receives. In the direct CRM mode, General and Approval work; ask your administrator for a Lonceng server to see Inbox.

## Connection (MW-1, MW-2)

status-connected = Connected
status-reconnecting = Reconnecting…
status-reconnecting-at = Qontak is unreachable. Trying again at { $time }.
status-maintenance-until = Qontak is under maintenance until { $time }. Your list stays available.
status-offline = Offline. Your list stays available.
last-synced = Last synced { $time }
maintenance-announced = Scheduled maintenance: { $start } – { $end }
late-summary = { $count ->
        [one] 1 notification arrived while Qontak was unavailable
       *[other] { $count } notifications arrived while Qontak was unavailable
    }
gap-expired = Some { $tab ->
        [inbox] Inbox
        [approval] Approval
       *[general] General
    } items may have expired while you were offline.

## Toast explanations ("why no toast?")

why-toasted = Shown as a desktop notification.
why-chat-focused = No desktop notification: you were active in the Qontak chat.
why-muted = No desktop notification: this category is muted.
why-paused = No desktop notification: notifications were paused.
why-already-read = No desktop notification: already read.
why-late = No desktop notification: it arrived late, after Qontak was unavailable.
more-summary = { $count ->
        [one] 1 more notification is waiting in Lonceng
       *[other] { $count } more notifications are waiting in Lonceng
    }
paused-summary = { $count ->
        [one] 1 notification arrived while notifications were paused
       *[other] { $count } notifications arrived while notifications were paused
    }

## Tray menu

tray-open = Open
tray-open-bell = Open the bell
tray-nothing-unread = Nothing unread
tray-mark-all-read = Mark all as read
tray-pause = Pause notifications
tray-pause-hour = For 1 hour
tray-pause-tomorrow = Until tomorrow
tray-resume = Resume notifications
tray-language = Language
tray-autostart = Start at login
tray-update = Install update { $version }
update-available = Lonceng { $version } is available.
update-install = Install and restart
update-failed = The update was not installed: { $error }
settings-update-url = Update address (from your administrator; empty: no updates)
settings-proxy = Proxy (empty: this computer's own; direct: none; or http://user:password@proxy:port)
settings-shortcut = Keyboard shortcut that opens the bell (empty: none)
settings-shortcut-invalid = { $shortcut } is not a keyboard shortcut: write it like Ctrl+Alt+N.
settings-shortcut-taken = { $shortcut } is taken by the desktop or another app: choose another.
settings-shortcut-unsupported = This desktop (Wayland) does not let apps take a keyboard shortcut: in its keyboard settings, set { $shortcut } to run the command lonceng, which opens the bell.
tray-settings = Settings…
tray-quit = Quit Lonceng

## Quiet hours, snooze, search, sound (issue 15)

why-quiet-hours = No desktop notification: quiet hours.
why-system-quiet = No desktop notification: your computer's Do Not Disturb was on.
open-conversation = Open conversation
mute-conversation = Mute this conversation
tray-quiet-hours = Quiet hours
tray-quiet-until = Quiet until { $time }
tray-paused-until = Paused until { $time }
tray-system-quiet = Do Not Disturb is on: notifications wait
tray-maintenance = Under maintenance
tray-maintenance-until = Maintenance until { $time }
tray-try-now = Try now
settings-quiet = Quiet hours
settings-quiet-enabled = Hold desktop notifications during quiet hours
settings-quiet-from = From
settings-quiet-to = To
settings-quiet-days = On
settings-quiet-breakthrough = Show these anyway, without sound
settings-quiet-note = What arrives meanwhile waits in the list; one summary follows when quiet hours end.
day-mon = Mon
day-tue = Tue
day-wed = Wed
day-thu = Thu
day-fri = Fri
day-sat = Sat
day-sun = Sun
settings-sound = Sound
settings-sound-on = Play a sound with desktop notifications
settings-sound-silent = Silent for these categories
settings-approvals-break-dnd = Approvals show even when this computer's Do Not Disturb is on
settings-message-text = Show names and message text in notifications
settings-message-text-always = Always
settings-message-text-not-while-locked = Not while the screen is locked
settings-message-text-never = Never
snooze = Snooze
snooze-hour = For 1 hour
snooze-afternoon = This afternoon, { $time }
snooze-tomorrow = Tomorrow, { $time }
snooze-pick = Pick a time
snooze-apply = Snooze until then
snoozed-view = Snoozed
snoozed-count = { $count ->
        [one] 1 snoozed
       *[other] { $count } snoozed
    }
snoozed-until = Back at { $time }
snooze-cancel = Unsnooze
snoozed-empty = Nothing is snoozed. Snoozed notifications come back here at their time.
snooze-done = Snoozed until { $time }
snooze-past = Pick a time in the future.
search-placeholder = Search notifications
search-label = Search the last 90 days
search-everywhere = In all tabs
search-none = No notifications match { $query }.
search-results = { $count ->
        [one] 1 result
       *[other] { $count } results
    }
search-clear = Clear search
gap-dismiss = Dismiss
undo-too-late = Too late to undo: the change has gone to Qontak.

## Settings and explanations in the window

why-unknown = No decision was recorded for this notification on this computer.
why-label = Why was there no desktop notification?
settings-toasts = Desktop notifications for
settings-chat-messages = Incoming chat messages
settings-chat-mutes = Chat toasts
settings-chat-channels = Channels
settings-muted-none = No conversation is muted. "Mute this conversation" on a chat toast mutes it until it is resolved.
channel-whatsapp = WhatsApp
channel-instagram = Instagram
channel-facebook = Facebook
channel-telegram = Telegram
channel-line = LINE
channel-webchat = Web chat
channel-tokopedia = Tokopedia
channel-email = Email
mute-hour = Muted for 1 hour
mute-resolved = Muted until resolved
mute-always = Always muted
mute-unmute = Unmute
settings-server = Server address
settings-token = Sign-in token
settings-token-keyring = Kept in the system keyring.
settings-token-file = No keyring service is running: kept in a file only you can read.
settings-token-none = Not signed in.
settings-chat-window = The web chat window's title contains
settings-save = Save
settings-demo = Demo mode: the embedded server with simulated activity.
settings-source = Notifications come from
settings-source-server = Lonceng server (all tabs)
settings-source-crm = Qontak CRM directly (General and Approval)
settings-crm-warning = These are your company's credentials from the Mekari Developer Center: anyone who has them can read every agent's CRM notifications. Enter them only on your own computer; the secret is kept in the system keyring and never shown again.
settings-crm-base = Mekari API address
settings-crm-client-id = Client id (HMAC username)
settings-crm-secret = Client secret
settings-crm-sso = Your CRM SSO user id
settings-crm-secret-keyring = Kept in the system keyring.
settings-crm-secret-file = No keyring service is running: kept in a file only you can read.
settings-crm-secret-none = Not entered.
settings-account = Your organisation
settings-sign-in = Sign in
settings-sign-in-again = Sign in again
settings-signing-in = Finish signing in in your browser…
settings-signed-in-as = Signed in as { $user }
settings-sign-out = Sign out
settings-signed-out = Signed out by your organisation.
settings-sign-in-first = Enter your organisation's server address, then sign in.
settings-sign-in-needed = Sign in to your organisation to see your notifications.
sign-in-link-ask = Sign in to { $server }? Lonceng will then show your notifications from this server.
sign-in-link-no = Not now
settings-advanced = Advanced: a token from your admin
settings-locked = Set by your organisation
settings-autostart-unmanaged = Start at login is managed by an installed Lonceng; this copy (a build or the demo) leaves your login items alone.

pin-window = Keep this window open

## lonceng doctor (and Settings → Diagnose)
doctor-title = Diagnose
doctor-run = Diagnose
doctor-running = Checking…
doctor-save-report = Save a report for IT
doctor-report-saved = Saved for IT: { $path } (tokens, names and message text removed).
doctor-level-ok = ok
doctor-level-warning = warning
doctor-level-problem = problem
doctor-check-notifications = Notifications
doctor-check-tray = Tray icon
doctor-check-display = Display
doctor-check-lock = Screen lock
doctor-check-keyring = Keyring
doctor-check-autostart = Start at login
doctor-check-network = Network
doctor-check-server = Server
doctor-check-token = Sign-in
doctor-check-stream = Live stream
doctor-check-clock = Clock
doctor-check-quarantine = Not shown
doctor-check-policy = Organisation policy
doctor-notifications-ok = { $name } { $version } shows toasts; it offers: { $caps }.
doctor-notifications-no-actions = { $name } { $version } shows toasts without buttons or clicks ({ $caps }): a toast cannot open its page.
doctor-notifications-no-actions-fix = Open items from the bell window, or use a notification service with actions (GNOME Shell, KDE Plasma, dunst, mako).
doctor-notifications-missing = No notification service answers on the session bus: toasts cannot appear.
doctor-notifications-missing-fix = Start your desktop's notification service (GNOME Shell, KDE Plasma, dunst, mako, xfce4-notifyd), then restart Lonceng.
doctor-notifications-windows = Windows notifications, under Lonceng's own name.
doctor-notifications-windows-unregistered = Lonceng's Start-menu shortcut is missing: Windows shows its toasts without its name and drops their clicks.
doctor-notifications-windows-unregistered-fix = Install Lonceng with its installer (or repair it from Apps & features).
doctor-tray-ok = A panel shows Lonceng's tray icon.
doctor-tray-no-host = A tray service runs, but no panel draws its icons.
doctor-tray-missing = This desktop has no system tray (StatusNotifierWatcher): Lonceng has no icon; run `lonceng` again to open the window.
doctor-tray-fix = Add a system tray (status notifier) to your panel, then restart Lonceng.
doctor-tray-fix-gnome = GNOME hides tray icons: install and enable the "AppIndicator and KStatusNotifierItem Support" extension (package gnome-shell-extension-appindicator), then log in again.
doctor-tray-windows = The taskbar's notification area.
doctor-display-x11 = X11: the focused window is visible, so toasts stay quiet while the web chat is in front.
doctor-display-x11-no-active = X11, but no window manager reports the focused window: Lonceng cannot tell whether the web chat is in front.
doctor-display-x11-no-active-fix = Run a window manager that sets _NET_ACTIVE_WINDOW; meanwhile the web chat's presence report decides.
doctor-display-wayland = Wayland hides the focused window from applications: the web chat's presence report decides whether toasts appear.
doctor-display-wayland-fix = Keep the Qontak web chat open in a browser tab, or sign in to an X11 session.
doctor-display-windows = Windows: the foreground window is visible, so toasts stay quiet while the web chat is in front.
doctor-display-missing = No display (neither DISPLAY nor WAYLAND_DISPLAY is set): Lonceng is a desktop app.
doctor-display-missing-fix = Run Lonceng from your desktop session.
doctor-lock-ok = The screen lock is known from { $source }: toasts wait while the screen is locked.
doctor-lock-missing = No screen-lock service answers: toasts may appear over a locked screen.
doctor-lock-missing-fix = Use a screen locker that implements org.freedesktop.ScreenSaver, or systemd-logind's LockedHint.
doctor-keyring-ok = Secrets are kept in the { $store }.
doctor-keyring-missing = No keyring service runs: the sign-in token is kept in a file only you can read.
doctor-keyring-missing-fix = Install and unlock a Secret Service keyring (gnome-keyring, KeePassXC), then save the token again.
doctor-autostart-unmanaged = This copy is not installed (a build folder or the demo): your login items are left alone.
doctor-autostart-on = Lonceng starts at login, hidden in the tray.
doctor-autostart-off = Start at login is off.
doctor-autostart-missing = Start at login is on, but its entry is missing.
doctor-autostart-other = The login entry starts another program: { $command }
doctor-autostart-stray = Start at login is off, but a login entry remains: { $command }
doctor-autostart-fix = Turn "Start at login" off and on again in the tray menu.
doctor-server-demo = The embedded demo server ({ $url }).
doctor-server-none = No server address is set.
doctor-server-none-fix = Enter your organisation's Lonceng server address and your sign-in token under Settings.
doctor-network-ok = Proxy: { $proxy }. Trusted certificates: { $trust }.
doctor-network-pac = Your proxy settings name an automatic configuration file ({ $pac }), which Lonceng cannot read: it connects without a proxy.
doctor-network-pac-fix = If the server cannot be reached, ask IT for the proxy's address and put it in Settings under Proxy.
doctor-network-trust-failed = This computer's trusted certificates cannot be read ({ $error }): secure connections may fail.
doctor-network-trust-failed-fix = Ask IT to check the computer's certificate store (on Linux, the ca-certificates package).
doctor-server-ok = { $url } answers.
doctor-server-crm = The Qontak CRM API answers ({ $url }).
doctor-server-unreachable = { $url } cannot be reached: { $error }
doctor-server-unreachable-fix = Check the network, a VPN or proxy, and the address under Settings; your administrator can check the server's /healthz.
doctor-token-ok = Signed in: the server knows this computer ({ $user }).
doctor-token-missing = Not signed in.
doctor-token-missing-fix = Sign in to your organisation: Sign in, in the tray's menu or under Settings.
doctor-token-rejected = The server refuses this computer's sign-in.
doctor-token-rejected-fix = Your organisation may have signed this computer out: sign in again (the tray's menu or Settings).
doctor-token-unchecked = The sign-in could not be tried (the server did not answer).
doctor-token-crm = The company's CRM client secret is stored.
doctor-token-crm-missing = The CRM client secret is missing.
doctor-token-crm-missing-fix = Enter the client id and secret under Settings.
doctor-stream-ok = The live stream opens: new notifications arrive at once.
doctor-stream-off = The server offers no live stream: Lonceng asks for changes every few seconds.
doctor-stream-polled = The CRM has no live stream: Lonceng asks it every minute.
doctor-stream-failed = The live stream does not open ({ $error }): Lonceng asks for changes every few seconds instead.
doctor-stream-failed-fix = A proxy may buffer or cut long requests: ask your administrator to pass /v1/stream through unbuffered.
doctor-stream-unchecked = The live stream could not be tried.
doctor-clock-ok = This computer's clock agrees with the server's (within { $seconds } s).
doctor-clock-skew = This computer's clock is { $seconds } s away from the server's: times, pauses and sign-ins can go wrong.
doctor-clock-skew-fix = Turn on automatic time (NTP) in your system settings.
doctor-clock-unchecked = The clock could not be compared (no answer from the server).
doctor-quarantine-ok = Every notification received could be shown.
doctor-quarantine-some = { $count ->
    [one] One notification could not be shown.
   *[other] { $count } notifications could not be shown.
}
doctor-quarantine-some-fix = They are kept with their reasons under Settings; tell your administrator.
doctor-quarantine-unreadable = The local copy of the list could not be read.
doctor-policy-none = No policy from your organisation: every setting is yours.
doctor-policy-ok = { $count ->
    [one] One setting is fixed by your organisation ({ $source }).
   *[other] { $count } settings are fixed by your organisation ({ $source }).
}
doctor-policy-problems = { $count ->
    [one] One entry of the policy in { $source } could not be used: { $problem }
   *[other] { $count } entries of the policy in { $source } could not be used; the first: { $problem }
}
doctor-policy-problems-fix = The rest of the policy applies. Tell your IT department which entry is wrong.

# Screen readers
sr-new-notifications = { $count ->
        [one] 1 new notification
       *[other] { $count } new notifications
    }, { $unread } unread in total
