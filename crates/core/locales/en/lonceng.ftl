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
tray-mark-all-read = Mark all as read
tray-pause = Pause notifications
tray-pause-hour = For 1 hour
tray-pause-tomorrow = Until tomorrow
tray-resume = Resume notifications
tray-language = Language
tray-autostart = Start at login
tray-settings = Settings…
tray-quit = Quit Lonceng

## Settings and explanations in the window

why-unknown = No decision was recorded for this notification on this computer.
why-label = Why was there no desktop notification?
settings-toasts = Desktop notifications for
settings-chat-messages = Incoming chat messages
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

pin-window = Keep this window open
