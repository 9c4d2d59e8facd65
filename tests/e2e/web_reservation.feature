Feature: Reserving a meeting room in the browser
  People reserve rooms in their own language. When two people want the same time,
  the second one is told whose reservation is in the way.

  Scenario Outline: Reserve, meet a conflict, cancel (<language>)
    Given the pages are shown in <language>
    And the administrator has created a room and opened it for the next two weeks
    When Alice logs in and opens the room's day for tomorrow
    And she picks the free slots from 10:00 to 11:00 and reserves them
    Then she sees that her reservation is confirmed
    And the slots from 10:00 to 11:00 show that she reserved them
    When Bob tries to reserve the same room from 10:30 to 11:30
    Then Bob is told that Alice's reservation from 10:00 to 11:00 is in the way
    And his chosen times are still in the form
    When Alice cancels the reservation on her reservations page
    Then the reservation is shown as cancelled
    And no page showed a console error or broke the Content-Security-Policy

    Examples:
      | language |
      | English  |
      | Japanese |
