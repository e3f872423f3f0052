Return-Path: <noc@acme.example>
Received: from mail.acme.example (mail.acme.example [192.0.2.19])
	by mx.500.uk.com (Postfix) with ESMTPS id 4Zq0009X
	for <support@500.uk.com>; Mon, 23 Nov 2026 09:09:11 +0000 (GMT)
From: John Carter <noc@acme.example>
To: "SIP Trunk Plus Support" <support@500.uk.com>
Subject: Urgent: mobile number change
Date: Mon, 23 Nov 2026 09:09:05 +0000
Message-ID: <1764000009.demo0009@acme.example>
X-Mailer: 
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Please change Alice's number today.

User ID: U2002
Name: Alice Brown
Mobile: 07400 666777
